import {initial} from './001-initial.js'
import type {Migration} from './migration.js'

/** Every migration, oldest first. Add new ones at the end with the next version. */
export const MIGRATIONS: readonly Migration[] = [initial]
