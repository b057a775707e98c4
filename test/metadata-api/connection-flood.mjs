// Opens COUNT connections to 127.0.0.1:PORT, all at once, and once every one is up closes them all
// early: a third mid-header, a third with a reset (RST), a third without a byte sent. Runs in its own
// process so that the server's process has file descriptors for its side of every connection.
// Prints {"connected": N, "failed": N} and exits.
import net from 'node:net';

const [port, count] = process.argv.slice(2).map(Number);
const sockets = [];
let failed = 0;

await Promise.all(
  Array.from({ length: count }, () =>
    new Promise((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.on('connect', () => {
        sockets.push(socket);
        resolve();
      });
      socket.on('error', () => {
        failed += 1;
        resolve();
      });
    }),
  ),
);
sockets.forEach((socket, index) => {
  socket.on('error', () => undefined);
  if (index % 3 === 0) socket.end('GET /openstack/latest/meta_data.json HTTP/1.1\r\nHost: 169.254.169.254\r\nX-Instance-');
  else if (index % 3 === 1) socket.resetAndDestroy();
  else socket.destroy();
});
console.log(JSON.stringify({ connected: sockets.length, failed }));
