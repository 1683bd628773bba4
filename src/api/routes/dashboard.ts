import {type Asset, type DashboardAssets, sendAsset, sendNotBuilt} from '../dashboard/assets.js'
import {HttpProblem} from '../problem.js'
import type {Handler, Route} from '../router.js'

/**
 * The dashboard's pages and files. Its URLs are the page's own (History API routing): each
 * answers index.html and the page shows what the path names. Notifications link to
 * `/runs/<id>`, so these paths are kept stable.
 */
export const DASHBOARD_PAGES = ['/', '/tasks/:unit', '/runs/:run', '/daemon', '/notifications'] as const

export function dashboardRoutes(assets: DashboardAssets): Route[] {
  const page: Handler = (req, res) => {
    if (assets.index) sendAsset(req.raw, res, assets.index)
    else sendNotBuilt(res, assets.dir)
  }
  const file: Handler = (req, res) => {
    const asset: Asset | undefined = assets.file(req.params.file)
    if (!asset) throw new HttpProblem(404, `no dashboard file "${req.params.file}"`)
    sendAsset(req.raw, res, asset)
  }
  return [...DASHBOARD_PAGES.map((path): Route => ({method: 'GET', path, auth: false, handler: page})), {method: 'GET', path: '/assets/:file', auth: false, handler: file}]
}
