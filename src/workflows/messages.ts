/** Workflow queries, updates and signals (INTERFACE.md); shared by the workflow and the client. */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Goal, SetGoalRequest } from '../protocol/goal';
import type { Progress } from '../protocol/progress';

export const progressQuery = defineQuery<Progress>('progress');
export const goalQuery = defineQuery<Goal>('goal');
export const setGoalUpdate = defineUpdate<Goal, [SetGoalRequest]>('setGoal');
export const steerSignal = defineSignal<[{ message: string }]>('steer');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
