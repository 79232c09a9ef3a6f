#!/usr/bin/env node
// The installed command (package.json "bin"): the compiled entry point in dist/, built by
// `npm run build` (prepack). In the repository, `npm run provision` runs scripts/launch.mjs: this
// build when it is the build of the current sources, the .ts with tsx otherwise.
import { startCompiled } from './start.js';

await startCompiled('provision', 'trento-provision');
