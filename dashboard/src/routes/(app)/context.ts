import { getContext, setContext } from 'svelte'
import type { UserSession } from './user.svelte'

const KEY = Symbol('user-session')

export const setUserSession = (session: UserSession) => setContext(KEY, session)
export const getUserSession = () => getContext<UserSession>(KEY)
