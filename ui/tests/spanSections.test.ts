import { describe, expect, it } from "vitest";
import { attributeSections } from "../src/lib/spanSections";

const a = (key: string) => ({ key, type: "string", value: "x" });
describe("attributeSections", () => {
  it("puts each X-Ray segment field in its own section", () => {
    const s = attributeSections(
      ["annotation.tenant", "aws.xray.metadata.default", "http.request.method", "url.full", "client.address", "aws.operation", "aws.table_name",
        "aws.xray.cause.working_directory", "aws.xray.fault", "aws.xray.type", "user.id"].map(a),
    );
    const keys = (l: { key: string }[]) => l.map((x) => x.key);
    expect(keys(s.annotations)).toEqual(["annotation.tenant"]);
    expect(keys(s.metadata)).toEqual(["aws.xray.metadata.default"]);
    expect(keys(s.http)).toEqual(["http.request.method", "url.full", "client.address"]);
    expect(keys(s.aws)).toEqual(["aws.operation", "aws.table_name"]);
    expect(keys(s.cause)).toEqual(["aws.xray.cause.working_directory", "aws.xray.fault"]);
    expect(keys(s.xray)).toEqual(["aws.xray.type"]);
    expect(keys(s.other)).toEqual(["user.id"]);
  });

  it("leaves the stored segment document to the raw-document view", () => {
    const s = attributeSections(["aws.xray.document", "aws.xray.type"].map(a));
    const all = Object.values(s).flatMap((l) => l.map((x: { key: string }) => x.key));
    expect(all).toEqual(["aws.xray.type"]);
  });
});
