#!/usr/bin/env -S node --import tsx
// The CLI straight from src/ through tsx, without a build.
import {execute} from '../src/index.ts'

await execute({development: true, dir: import.meta.url})
