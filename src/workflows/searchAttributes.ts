import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const GOAL_STATUS_KEY = defineSearchAttributeKey('InftyGoalStatus', SearchAttributeType.KEYWORD);
export const PHASE_KEY = defineSearchAttributeKey('InftyPhase', SearchAttributeType.KEYWORD);
export const TOKENS_USED_KEY = defineSearchAttributeKey('InftyTokensUsed', SearchAttributeType.INT);
