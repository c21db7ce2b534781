/** `host:port` as gRPC targets spell it (IPv6 addresses in brackets). */
export function grpcAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
