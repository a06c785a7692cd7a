/** Local development credentials: printed at start, never used when the environment sets its own. */
export const DEV_JWT_SECRET = 'super-secret-jwt-token-with-at-least-32-characters-long'
export const DEV_OPERATOR_TOKEN = 'streamscope-dev-operator'
