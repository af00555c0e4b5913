import { describe, expect, it } from "vitest";
import { endpointsFrom } from "../src/components/empty";

describe("setup help endpoints", () => {
  it("uses the ports the server listens on, and the browser's host for wildcard binds", () => {
    const e = endpointsFrom(
      [
        { name: "otlp-http", protocol: "", transport: "tcp", host: "0.0.0.0", port: 14318, tls: true },
        { name: "otlp-grpc", protocol: "", transport: "tcp", host: "0.0.0.0", port: 14317, tls: false },
        { name: "xray-udp", protocol: "", transport: "udp", host: "127.0.0.1", port: 12000, tls: false },
        { name: "xray-tcp", protocol: "", transport: "tcp", host: "::1", port: 12000, tls: false },
      ],
      "traces.example.com",
    );
    expect(e).toEqual({
      otlp: "https://traces.example.com:14318",
      otlpGrpc: "http://traces.example.com:14317",
      xrayDaemon: "127.0.0.1:12000", xrayApi: "http://[::1]:12000",
    });
  });
  it("falls back to the defaults", () => {
    expect(endpointsFrom(null, "h")).toEqual({ otlp: "http://h:4318", otlpGrpc: "http://h:4317", xrayDaemon: "h:2000", xrayApi: "http://h:2000" });
  });
});
