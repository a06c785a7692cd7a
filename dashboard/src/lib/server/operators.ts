// Who is using the dashboard and what they may do: the one declaration of the roles.

export const OPERATOR_ROLES = ['viewer', 'operator'] as const
/** `viewer` reads everything; `operator` also switches the chat transport and edits alert rules. */
export type OperatorRole = (typeof OPERATOR_ROLES)[number]

export interface Operator {
  /** Shown in the top bar and recorded in the flag history: an e-mail address, or the name typed at a shared-token login. */
  name: string
  role: OperatorRole
  /** The Supabase user id of an operator signed in with their account; null for the shared token. */
  userId: string | null
  email: string | null
}

/** Who a bearer OPERATOR_TOKEN caller is recorded as (flag history). */
export const API_OPERATOR = 'api token'

export function isOperatorRole(value: unknown): value is OperatorRole {
  return typeof value === 'string' && (OPERATOR_ROLES as readonly string[]).includes(value)
}

/** Whether this operator may change something (the transport flag, alert rules). */
export function mayOperate(operator: Operator | null | undefined): boolean {
  return operator?.role === 'operator'
}

/** The shared token is an operator; a typed name says who, as a hint, not as proof. */
export function tokenOperator(name: string): Operator {
  return { name: name === API_OPERATOR ? name : `${name} (operator token)`, role: 'operator', userId: null, email: null }
}
