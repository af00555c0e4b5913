// The span panel's sections: a span's attributes split into the X-Ray segment fields (annotations,
// metadata, HTTP, AWS call data, the cause of an error, other X-Ray fields) and the rest, by the
// keys the X-Ray receiver writes (src/model/xray_attributes.h, docs/xray-mapping.md). OTLP spans
// with HTTP attributes get the HTTP section too.
import type { Attribute } from "../api";

export interface SpanSections {
  annotations: Attribute[];
  metadata: Attribute[];
  http: Attribute[];
  aws: Attribute[];
  cause: Attribute[];
  xray: Attribute[];
  other: Attribute[];
}

export function attributeSections(attrs: Attribute[]): SpanSections {
  const out: SpanSections = { annotations: [], metadata: [], http: [], aws: [], cause: [], xray: [], other: [] };
  for (const a of attrs) {
    const k = a.key;
    // The segment as sent: shown whole by the panel's "Raw segment document", not as one long value.
    if (k === "aws.xray.document") continue;
    if (k.startsWith("annotation.")) out.annotations.push(a);
    else if (k.startsWith("aws.xray.metadata.")) out.metadata.push(a);
    else if (k.startsWith("aws.xray.cause.") || k === "aws.xray.error" || k === "aws.xray.fault" || k === "aws.xray.throttle") out.cause.push(a);
    else if (k.startsWith("http.") || k.startsWith("url.") || k.startsWith("aws.xray.http.") || k === "client.address" || k === "user_agent.original") out.http.push(a);
    else if (k.startsWith("aws.xray.")) out.xray.push(a);
    else if (k.startsWith("aws.")) out.aws.push(a);
    else out.other.push(a);
  }
  return out;
}

