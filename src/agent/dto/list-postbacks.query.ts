import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';

import type { PostbackState } from '../../outbox/postback.entity.js';
import { POSTBACK_STATES } from '../../outbox/postback-query.service.js';

export class ListPostbacksQuery {
  @IsOptional()
  @IsIn(POSTBACK_STATES, { message: `state must be one of ${POSTBACK_STATES.join(', ')}` })
  state?: PostbackState;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}
