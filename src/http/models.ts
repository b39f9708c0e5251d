// Models shared by more than one resource.
import { t } from "elysia";
import { MIN_PASSWORD } from "../services/passwords";

export const Email = t.String({ format: "email", maxLength: 254 });
export const Password = t.String({ minLength: MIN_PASSWORD, maxLength: 200, description: `at least ${MIN_PASSWORD} characters` });
export const PersonName = t.String({ minLength: 1, maxLength: 100, pattern: "\\S" });
/** An enum without t.UnionEnum's implicit default (its first value), which would fill every PATCH. */
export function oneOf<const T extends [string, ...string[]]>(values: T, description?: string) {
  return t.UnionEnum(values, { default: undefined, description: description ?? `one of: ${values.join(", ")}` });
}

export const Role = oneOf(["admin", "member"]);

export const NewUser = t.Object(
  { email: Email, password: Password, first_name: PersonName, last_name: PersonName, role: t.Optional(Role) },
  { additionalProperties: false },
);
