import { describe, expect, it } from 'vitest'
import { DEV_OPERATOR_TOKEN } from '../../../../server/dev-defaults.ts'
import { MIN_OPERATOR_TOKEN_LENGTH, assertOperatorToken, operatorTokenProblem } from './operator-token'

describe('operatorTokenProblem', () => {
  it('takes the development default, no token, and long tokens', () => {
    expect(operatorTokenProblem(DEV_OPERATOR_TOKEN)).toBeNull()
    expect(operatorTokenProblem(undefined)).toBeNull()
    expect(operatorTokenProblem('')).toBeNull()
    expect(operatorTokenProblem('x'.repeat(MIN_OPERATOR_TOKEN_LENGTH))).toBeNull()
  })

  it('refuses a configured token under 32 characters, saying how long it is', () => {
    expect(operatorTokenProblem('x'.repeat(31))).toMatch(/is 31 characters long.*at least 32/)
    expect(operatorTokenProblem(`${DEV_OPERATOR_TOKEN}2`)).toMatch(/at least 32/)
    expect(() => assertOperatorToken('short')).toThrow(/OPERATOR_TOKEN is 5 characters long/)
    expect(operatorTokenProblem(`${'x'.repeat(32)} y`)).toMatch(/must not contain spaces/)
  })
})
