// A web front end's use of the types openapi-typescript generates from openapi/openapi.json.
// `tsc` type-checks it on CI (.ci/clients): a change to the document that breaks what the
// front ends write fails here.
import type { components, paths } from "./generated/esr-access";

type LoginRequest = components["schemas"]["LoginRequest"];
type Problem = components["schemas"]["Problem"];
type LoginAnswer =
  paths["/v1/auth/login"]["post"]["responses"][200]["content"]["application/json"];
type Me = paths["/v1/me"]["get"]["responses"][200]["content"]["application/json"];

export const request: LoginRequest = { username: "999JSMITH01", password: "Bluebell harbour lantern" };

/** The access token of a login, or the second step it asks for. */
export function next(answer: LoginAnswer): string {
  if ("mfa_required" in answer && answer.mfa_required) {
    return `second step: ${answer.methods.join(", ")} within ${answer.expires_in} s`;
  }
  return "access_token" in answer ? answer.access_token : "";
}

/** What the app shows for a refused request: the problem's code is a closed set. */
export function explain(problem: Problem): string {
  switch (problem.code) {
    case "invalid-credentials":
      return "The username or password is incorrect.";
    case "account-suspended":
      return "Your account is suspended.";
    default:
      return problem.detail ?? problem.title;
  }
}

export function greeting(me: Me): string {
  return `${me.first_name} ${me.last_name} (${me.username}), ${me.organisation.name}`;
}

// @ts-expect-error: not one of the API's problem codes
export const notACode: Problem["code"] = "no-such-problem";

type AccountStatus = components["schemas"]["AdminAccount"]["status"];
export const usable: AccountStatus[] = ["active", "locked"];
// @ts-expect-error: not an account status
export const notAStatus: AccountStatus = "frozen";
