/**
 * A receive-only WebSocket client for text messages.
 *
 * Node 22 has a global WebSocket; Node 20 has it only behind --experimental-websocket. When there is no
 * global one, a minimal RFC 6455 client over node:http is used (no extensions, no subprotocols): enough to
 * read the Playground's stream without adding a dependency.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { Duplex } from 'node:stream';

export interface TextSocket {
  /** Resolves once the connection is open. */
  readonly opened: Promise<void>;
  close(): void;
}

interface GlobalWebSocket {
  onopen: (() => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onclose: (() => void) | null;
  close(): void;
}
type GlobalWebSocketCtor = new (url: string) => GlobalWebSocket;

export function openTextSocket(url: string, onText: (text: string) => void): TextSocket {
  const Native = (globalThis as { WebSocket?: GlobalWebSocketCtor }).WebSocket;
  return Native ? openNative(Native, url, onText) : openMinimal(url, onText);
}

function openNative(Native: GlobalWebSocketCtor, url: string, onText: (text: string) => void): TextSocket {
  const ws = new Native(url);
  const opened = new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`WebSocket ${url} failed`));
  });
  ws.onmessage = (event) => onText(String(event.data));
  return { opened, close: () => ws.close() };
}

const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function frame(opcode: number, payload: Buffer): Buffer {
  // client frames are always masked; only short control frames are sent here
  const mask = crypto.randomBytes(4);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), mask, masked]);
}

function openMinimal(url: string, onText: (text: string) => void): TextSocket {
  const target = new URL(url);
  const key = crypto.randomBytes(16).toString('base64');
  let socket: Duplex | undefined;
  let closed = false;

  const opened = new Promise<void>((resolve, reject) => {
    const req = http.request({
      host: target.hostname,
      port: target.port,
      path: target.pathname + target.search,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': key },
    });
    req.once('error', reject);
    req.once('response', (res) => reject(new Error(`WebSocket ${url}: HTTP ${res.statusCode} instead of an upgrade`)));
    req.once('upgrade', (res, sock, head) => {
      const expected = crypto
        .createHash('sha1')
        .update(key + ACCEPT_GUID)
        .digest('base64');
      if (res.headers['sec-websocket-accept'] !== expected) {
        sock.destroy();
        reject(new Error(`WebSocket ${url}: bad Sec-WebSocket-Accept`));
        return;
      }
      socket = sock;
      if (closed) sock.end(frame(0x8, Buffer.alloc(0)));
      readFrames(sock, head, onText);
      resolve();
    });
    req.end();
  });

  return {
    opened,
    close() {
      closed = true;
      if (socket && !socket.destroyed) {
        socket.end(frame(0x8, Buffer.alloc(0)));
        setTimeout(() => socket?.destroy(), 500).unref();
      }
    },
  };
}

function readFrames(sock: Duplex, head: Buffer, onText: (text: string) => void): void {
  let buffer = head;
  let message: Buffer[] = [];
  const consume = () => {
    for (;;) {
      if (buffer.length < 2) return;
      const fin = (buffer[0]! & 0x80) !== 0;
      const opcode = buffer[0]! & 0x0f;
      const masked = (buffer[1]! & 0x80) !== 0;
      let length = buffer[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const maskKey = masked ? buffer.subarray(offset, offset + 4) : undefined;
      if (masked) offset += 4;
      if (buffer.length < offset + length) return;
      let payload = buffer.subarray(offset, offset + length);
      if (maskKey) payload = Buffer.from(payload.map((byte, i) => byte ^ maskKey[i % 4]!));
      buffer = buffer.subarray(offset + length);

      if (opcode === 0x8) {
        sock.end(frame(0x8, Buffer.alloc(0)));
        return;
      }
      if (opcode === 0x9) {
        sock.write(frame(0xa, payload.subarray(0, 125)));
        continue;
      }
      if (opcode === 0x1 || opcode === 0x2 || opcode === 0x0) {
        message.push(payload);
        if (fin) {
          onText(Buffer.concat(message).toString('utf8'));
          message = [];
        }
      }
    }
  };
  sock.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    consume();
  });
  sock.on('error', () => sock.destroy());
  consume();
}
