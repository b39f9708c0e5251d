// Demo data with @faker-js/faker: tenants, users and tasks, and a login for each tenant's admin.
import { faker } from "@faker-js/faker";
import type { Sql } from "../db/client";
import { insertTasks } from "../db/tasks";
import type { Tenant } from "../db/tenants";
import type { Source } from "../migrator/source";
import { createWithAdmin } from "./auth";
import { hashPassword } from "./passwords";
import { addUser } from "./users";

type Login = { company: string; schema: string; email: string; password: string; token: string };

/** A unique, valid e-mail for a fake person (faker's own can repeat across thousands). */
export function fakeEmail(first: string, last: string): string {
  const local = `${first}.${last}`.toLowerCase().normalize("NFKD").replace(/[^a-z0-9.]+/g, "") || "user";
  return `${local}.${crypto.randomUUID().slice(0, 8)}@${faker.internet.domainName()}`.toLowerCase();
}

function fakeTask(userIds: number[]) {
  return {
    title: faker.hacker.phrase().slice(0, 500),
    completed: faker.datatype.boolean(),
    order: faker.number.int({ min: 0, max: 1000 }),
    description: faker.lorem.sentence(),
    priority: faker.helpers.arrayElement(["low", "normal", "high"] as const),
    due_at: faker.helpers.maybe(() => faker.date.soon({ days: 60 }).toISOString()) ?? null,
    assignee_id: faker.helpers.maybe(() => faker.helpers.arrayElement(userIds)) ?? null,
    tags: faker.helpers.arrayElements(["home", "work", "urgent", "later", "ops", "docs"], { min: 0, max: 3 }),
    created_by: faker.helpers.arrayElement(userIds),
  };
}

/** Members (up to `users` in all, with one shared password hash: argon2 is slow on purpose) and tasks for a tenant whose admin exists. */
export async function populate(
  sql: Sql,
  tenant: Pick<Tenant, "id" | "schema">,
  adminId: number,
  options: { users: number; tasks: number; passwordHash: string },
): Promise<number[]> {
  const userIds = [adminId];
  for (let u = 1; u < options.users; u++) {
    const first = faker.person.firstName();
    const last = faker.person.lastName();
    const user = await sql.begin((tx) =>
      addUser(tx, tenant, { email: fakeEmail(first, last), password_hash: options.passwordHash, first_name: first, last_name: last, role: "member" }),
    );
    userIds.push(user.id);
  }
  for (let done = 0; done < options.tasks; done += 1000)
    await insertTasks(sql, tenant.schema, Array.from({ length: Math.min(1000, options.tasks - done) }, () => fakeTask(userIds)));
  return userIds;
}

export async function seed(sql: Sql, source: Source, options: { tenants: number; users: number; tasks: number; ttlHours: number }): Promise<Login[]> {
  const logins: Login[] = [];
  for (let i = 0; i < options.tenants; i++) {
    const first_name = faker.person.firstName();
    const last_name = faker.person.lastName();
    const password = faker.internet.password({ length: 14 });
    const company = faker.company.name();
    const signedIn = await createWithAdmin(
      sql,
      source.tenant,
      { name: company },
      { email: fakeEmail(first_name, last_name), password, first_name, last_name },
      options.ttlHours,
    );
    await populate(sql, signedIn.tenant, signedIn.user.id, {
      users: options.users,
      tasks: options.tasks,
      passwordHash: await hashPassword(faker.internet.password({ length: 14 })),
    });
    logins.push({ company, schema: signedIn.tenant.schema, email: signedIn.user.email, password, token: signedIn.token! });
  }
  return logins;
}
