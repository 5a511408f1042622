// N WebSocket clients on one project for S seconds, with Node's `ws` (npm).
// Prints one JSON line: per-client message counts and the
// delays from each message's timestamp to its receipt.
import { createRequire } from "module";
const require = createRequire(process.env.WS_MODULE_DIR + "/");
const WebSocket = require("ws");
const [server, project, n, secs] = process.argv.slice(2);
const uri = `ws://${server}/ws/projects/${project}`;
const counts = new Array(+n).fill(0), delays = [];
let counting = false;
const socks = [];
for (let i = 0; i < +n; i++) {
  const ws = new WebSocket(uri);
  ws.on("message", (data) => {
    if (!counting) return;
    const now = Date.now();
    const s = data.toString();
    const m = /"timestamp":"([^"]+)"/.exec(s);
    if (m) { delays.push(now - Date.parse(m[1])); counts[i]++; }
  });
  ws.on("error", (e) => { console.error(`client ${i}: ${e.message}`); process.exit(1); });
  socks.push(ws);
}
setTimeout(() => { counting = true; }, 3000);
setTimeout(() => {
  counting = false;
  socks.forEach((w) => w.terminate());
  delays.sort((a, b) => a - b);
  console.log(JSON.stringify({ clients: +n, min_per_client: Math.min(...counts),
    max_per_client: Math.max(...counts), messages: delays.length, delays_ms: delays }));
  process.exit(0);
}, 3000 + secs * 1000);
