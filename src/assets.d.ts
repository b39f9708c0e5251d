// Files imported `with { type: "file" }` (src/http/docs.ts): Bun resolves them to a path on disk,
// or inside the compiled binary.
declare module "swagger-ui-dist/swagger-ui-bundle.js" {
  const path: string;
  export default path;
}
declare module "swagger-ui-dist/swagger-ui.css" {
  const path: string;
  export default path;
}
