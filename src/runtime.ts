/**
 * How Node runs the bot in production (App Service's start command, `npm run bot`, `npm start`, the end-to-end tests
 * and the benchmark all use these flags).
 *
 * `--max-semi-space-size=2`: V8's young generation defaults to semi-spaces of up to 16 MiB, sized for programs that
 * allocate a lot at once. A bot turn allocates little and briefly, so 2 MiB semi-spaces cost a few more (cheap)
 * scavenges and keep about 20 MiB less resident while idle (measured: 128 → 106 MiB at idle).
 *
 * `--disable-warning=DEP0111`: restify loads spdy, whose http-deceiver reads `process.binding('http_parser')` at
 * load time; Node warns about that (twice) at every start. The bot serves plain HTTP/1.1 and never uses spdy, so the
 * warning tells an operator nothing; every other deprecation warning still shows.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--disable-warning=DEP0111'];
