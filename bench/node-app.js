// bench/node-app.js: the small Node HTTP server of the "supervised Node
// app" scenario, the same file under drover and under PM2 cluster mode.
// Answers every request with a short body and counts what it served into
// COUNT_DIR/<pid> twice a second, so the bench can tell the spread.
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');

const port = Number(process.env.PORT || 3000);
const dir = process.env.COUNT_DIR;
const body = 'hello from node ' + process.pid + '\n';
let served = 0;

http.createServer((req, res) => {
    served++;
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
}).listen(port, '127.0.0.1');

if (dir) {
    const file = path.join(dir, String(process.pid));
    const save = () => fs.writeFileSync(file, String(served));
    setInterval(save, 500).unref();
    process.on('SIGTERM', () => { save(); process.exit(0); });
    process.on('SIGINT', () => { save(); process.exit(0); });
}
