/**
 * The names a run answers to (docs/interface.md), defined once for the workflow and its clients: the
 * workflow type, its queries, update and signals, and its search attributes.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApprovalResult, ApproveRequest, DenyRequest } from './approval';
import type { Goal, SetGoalRequest } from './goal';
import type { Progress } from './progress';

export const WORKFLOW_TYPE = 'inftyRun';

export const progressQuery = defineQuery<Progress>('progress');
export const goalQuery = defineQuery<Goal>('goal');
export const setGoalUpdate = defineUpdate<Goal, [SetGoalRequest]>('setGoal');
export const approveUpdate = defineUpdate<ApprovalResult, [ApproveRequest]>('approve');
export const denyUpdate = defineUpdate<ApprovalResult, [DenyRequest]>('deny');
export const steerSignal = defineSignal<[{ message: string }]>('steer');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');

export const GOAL_STATUS_KEY = defineSearchAttributeKey('InftyGoalStatus', SearchAttributeType.KEYWORD);
export const PHASE_KEY = defineSearchAttributeKey('InftyPhase', SearchAttributeType.KEYWORD);

/** Memo field holding the goal (docs/interface.md §11) as of its last change of objective, status or budget. */
export const GOAL_MEMO_KEY = 'inftyGoal';
export const TOKENS_USED_KEY = defineSearchAttributeKey('InftyTokensUsed', SearchAttributeType.INT);
