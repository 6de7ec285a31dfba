import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsUUID,
  Matches,
  Max,
  Min,
  ValidateIf,
} from 'class-validator';

/** Which postbacks an admin operation applies to. One of ids, tracker or all is required. */
export class OutboxSelectionDto {
  @ValidateIf((dto: OutboxSelectionDto) => dto.tracker === undefined && dto.all !== true)
  @IsArray({ message: 'give ids, tracker, or all: true' })
  @ArrayMaxSize(1000)
  @IsUUID('all', { each: true })
  ids?: string[];

  @IsOptional()
  @Matches(/^[a-z0-9_-]{1,64}$/, { message: 'tracker must be a tracker name' })
  tracker?: string;

  /** Required to act on every matching row, so that an empty body cannot. */
  @IsOptional()
  @IsBoolean()
  all?: boolean;
}

export class ReplayDto extends OutboxSelectionDto {
  @IsOptional()
  @IsIn(['dead', 'cancelled'])
  state?: 'dead' | 'cancelled';
}

export class PurgeDto {
  /** Delete delivered postbacks delivered more than this many days ago. */
  @IsInt()
  @Min(1)
  @Max(3650)
  olderThanDays: number;
}
