import type {Access} from '../access/access.js'
import {HttpProblem} from '../problem.js'
import type {Route} from '../router.js'

/**
 * The dashboard's sign-in: the API token (or a one-time sign-in ticket) in, an HttpOnly
 * session cookie out. Bearer-token clients never need these.
 */
export function sessionRoutes(access: Access): Route[] {
  return [
    {
      method: 'POST',
      path: '/api/session',
      // Reachable without credentials (server.ts SIGN_IN): the credentials are in the body.
      auth: false,
      handler: async (req, res) => {
        const result = access.signIn(req.raw, await req.body())
        if (!result.ok) throw new HttpProblem(result.status, result.detail, undefined, result.status === 401 ? {'www-authenticate': 'Bearer'} : {})
        res.writeHead(204, {'set-cookie': result.cookie, 'cache-control': 'no-store'})
        res.end()
      },
    },
    {
      method: 'DELETE',
      path: '/api/session',
      auth: true,
      handler: (req, res) => {
        res.writeHead(204, {'set-cookie': access.signOut(req.raw), 'cache-control': 'no-store'})
        res.end()
      },
    },
  ]
}
