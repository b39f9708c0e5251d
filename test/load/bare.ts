// The baselines for `bun run bench`: bare Bun.serve with no framework, no guards, no validation,
// serving the same 20 rows as GET /tasks from the schema named by the `tenant` header, on Bun's
// built-in client (DRIVER=bun, its own pool) or on postgres.js (DRIVER=postgres.js, for the record).
import { SQL } from "bun";
import postgres from "postgres";

const url = process.env.DATABASE_URL!;
const max = Number(process.env.DB_POOL_MAX ?? 10);
const COLUMNS = `id, title, completed, "order", description, priority, due_at, assignee_id, tags, created_by, created_at, updated_at`;

let list: (schema: string) => Promise<unknown>;
let close: () => Promise<void>;
if (process.env.DRIVER === "postgres.js") {
  const sql = postgres(url, { max, onnotice: () => {}, connection: { application_name: "bare-postgres.js" } });
  list = (schema) => sql`select ${sql.unsafe(COLUMNS)} from ${sql(schema)}.tasks order by "order", id limit 20`;
  close = () => sql.end();
} else {
  const sql = new SQL(url, { max, connection: { application_name: "bare-bun" } });
  list = (schema) => sql`select ${sql.unsafe(COLUMNS)} from ${sql(schema)}.tasks order by "order", id limit 20`;
  close = () => sql.close();
}

const server = Bun.serve({
  port: Number(process.env.PORT ?? 0),
  hostname: "127.0.0.1",
  async fetch(request) {
    const schema = request.headers.get("tenant") ?? "";
    if (!/^[a-z][a-z0-9_]{0,62}$/.test(schema)) return new Response("bad tenant", { status: 400 });
    return Response.json(await list(schema));
  },
});
console.log(`bare baseline on ${server.port}`);
process.on("SIGTERM", async () => {
  server.stop();
  await close();
  process.exit(0);
});
