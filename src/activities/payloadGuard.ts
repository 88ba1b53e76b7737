/** Activity side of the payload cap: an inbound interceptor that checks every input and result. */

import type { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import { PAYLOAD_TOO_LARGE, payloadTooLarge } from '../protocol/payloadLimits';

export class PayloadGuard implements ActivityInboundCallsInterceptor {
  constructor(private readonly ctx: Context) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const type = this.ctx.info.activityType;
    const inputError = payloadTooLarge(`the input of activity ${type}`, input.args);
    if (inputError) throw ApplicationFailure.nonRetryable(inputError, PAYLOAD_TOO_LARGE);
    const result = await next(input);
    const resultError = payloadTooLarge(`the result of activity ${type}`, result);
    if (resultError) throw ApplicationFailure.nonRetryable(resultError, PAYLOAD_TOO_LARGE);
    return result;
  }
}
