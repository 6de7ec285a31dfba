/** The Standard Webhooks secret the tests sign with, unless a test is about the secret itself. */
export const HMAC_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
