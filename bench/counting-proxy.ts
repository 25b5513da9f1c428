// A TCP pass-through on 127.0.0.1 in front of the registry that counts the bytes it sends to
// the clients: what a pull really fetched over the network, whatever the tool says about it.
import net from 'node:net';

export interface CountingProxy {
  /** "127.0.0.1:PORT": use it in place of the registry's host. */
  host: string;
  /** Bytes sent from the registry to clients since the last reset. */
  bytesDown(): number;
  reset(): void;
  close(): Promise<void>;
}

export async function startCountingProxy(upstreamHost: string): Promise<CountingProxy> {
  const [upHost, upPort] = upstreamHost.split(':') as [string, string];
  let down = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(upPort), upHost);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.on('data', (chunk: Buffer) => (down += chunk.length));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    bytesDown: () => down,
    reset: () => void (down = 0),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
