import {
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  MaxLength,
  ValidateIf,
} from 'class-validator';

import { IsSafeText } from '../../common/validators.js';
import { CLICK_ID_COLUMN_LENGTH, LANDING_URL_MAX_LENGTH } from '../../postback.constants.js';

/** `POST /v1/clicks`: a landing URL as the visitor opened it, or a click ID and its tracker. */
export class CaptureClickDto {
  /** The full landing URL; every configured tracker's click parameter is looked for in it. */
  @ValidateIf((dto: CaptureClickDto) => dto.clickId === undefined)
  @IsString({ message: 'landingUrl is required unless clickId and tracker are given' })
  @MaxLength(LANDING_URL_MAX_LENGTH, {
    message: `landingUrl is longer than ${LANDING_URL_MAX_LENGTH} characters`,
  })
  // The length is MaxLength's to check: IsUrl's own limit (2,084) would refuse real landing
  // URLs with long tracking parameters as "not an absolute URL".
  @IsUrl(
    { require_tld: false, require_protocol: true, validate_length: false },
    { message: 'landingUrl must be an absolute URL' },
  )
  landingUrl?: string;

  @IsOptional()
  @IsSafeText(CLICK_ID_COLUMN_LENGTH)
  clickId?: string;

  @ValidateIf((dto: CaptureClickDto) => dto.clickId !== undefined)
  @IsString({ message: 'tracker is required with clickId' })
  @Matches(/^[a-z0-9_-]{1,64}$/, { message: 'tracker must be a configured tracker name' })
  tracker?: string;

  /** The visitor's session ID in the shop; later events find the click by it. */
  @IsOptional()
  @IsSafeText(1024)
  sessionKey?: string;

  @IsOptional()
  @IsSafeText(255)
  customerId?: string;

  /** With clickId: the sub-parameters to keep (landing URLs bring their own). */
  @IsOptional()
  @IsObject()
  subParams?: Record<string, string>;
}
