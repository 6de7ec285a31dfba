import type { INestApplication } from '@nestjs/common';

/** What `app.init()` throws (undefined when the app starts); the app is closed either way. */
export async function initError(app: INestApplication): Promise<unknown> {
  try {
    await app.init();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await app.close();
  }
}
