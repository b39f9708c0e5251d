// Models shared by routes and services: TypeBox schemas (through Elysia's `t`), and the types
// derived from them, so a request body and the service it reaches never disagree.
import { t } from "elysia";
import { MIN_PASSWORD } from "./services/passwords";

/** An enum without t.UnionEnum's implicit default (its first value), which would fill every PATCH. */
export function oneOf<const T extends [string, ...string[]]>(values: T, description?: string) {
  return t.UnionEnum(values, { default: undefined, description: description ?? `one of: ${values.join(", ")}` });
}

export const Email = t.String({ format: "email", maxLength: 254 });
/** RFC 3339 with a four-digit year from 0001 to 9999: extended years (+275760-…) are beyond PostgreSQL. */
export const DateTime = t.String({ format: "date-time", pattern: "^(?!0000)\\d{4}-", description: "RFC 3339, years 0001 to 9999" });
const Password = t.String({ minLength: MIN_PASSWORD, maxLength: 200, description: `at least ${MIN_PASSWORD} characters` });
const PersonName = t.String({ minLength: 1, maxLength: 100, pattern: "\\S" });
export const Role = oneOf(["admin", "member"]);
const CompanyName = t.String({ minLength: 1, maxLength: 200, pattern: "\\S" });

const person = { email: Email, password: Password, first_name: PersonName, last_name: PersonName };
export const NewUser = t.Object({ ...person, role: t.Optional(Role) }, { additionalProperties: false });
export const UserPatch = t.Partial(NewUser, { additionalProperties: false });
export const Admin = t.Object(person, { additionalProperties: false });
export const Registration = t.Object({ company_name: CompanyName, ...person }, { additionalProperties: false });
export const NewTenant = t.Object(
  {
    name: CompanyName,
    schema: t.Optional(t.String({ maxLength: 63, description: "default: derived from the name" })),
    host: t.Optional(t.Nullable(t.String({ maxLength: 253, description: "requests with this Host header reach this tenant" }))),
    admin: t.Optional(Admin),
  },
  { additionalProperties: false },
);

export type NewUser = typeof NewUser.static;
export type UserPatch = typeof UserPatch.static;
export type Admin = typeof Admin.static;
export type Registration = typeof Registration.static;
export type NewTenant = typeof NewTenant.static;
