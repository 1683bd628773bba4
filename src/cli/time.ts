export {formatCivil as formatTime} from '../cron/zone.js'
export {formatRelative} from '../core/duration.js'
