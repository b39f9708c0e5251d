// The baseline for `bun run bench`: bare Bun.serve + postgres.js, no framework, no guards, no
// validation: the same 20 rows as GET /tasks, from the schema named by the `tenant` header.
import postgres from "postgres";

const sql = postgres(process.env.DATABASE_URL!, {
  max: Number(process.env.DB_POOL_MAX ?? 10),
  onnotice: () => {},
  connection: { application_name: "bare-baseline" },
});
const columns = ["id", "title", "completed", "order", "description", "priority", "due_at", "assignee_id", "tags", "created_by", "created_at", "updated_at"];

const server = Bun.serve({
  port: Number(process.env.PORT ?? 0),
  hostname: "127.0.0.1",
  async fetch(request) {
    const schema = request.headers.get("tenant") ?? "";
    if (!/^[a-z][a-z0-9_]{0,62}$/.test(schema)) return new Response("bad tenant", { status: 400 });
    const rows = await sql`select ${sql(columns)} from ${sql(schema)}.tasks order by "order", id limit 20`;
    return Response.json(rows);
  },
});
console.log(`bare baseline on ${server.port}`);
process.on("SIGTERM", async () => {
  server.stop();
  await sql.end();
  process.exit(0);
});
