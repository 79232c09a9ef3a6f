#!/usr/bin/env node
// The installed command (package.json "bin"): the compiled entry point in dist/, built by
// `npm run build` (prepack). In the repository, `npm run provision` runs the .ts with tsx.
import '../dist/scripts/provision.js';
