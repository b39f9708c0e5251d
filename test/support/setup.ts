// Preloaded by bun test: closes the shared database (and the embedded PostgreSQL it may have started) at the end.
import { afterAll } from "bun:test";
import { closeDatabase } from "./db";

afterAll(closeDatabase);
