// Test support: the real core as a child process (`commerce-gateway core`) on a loopback port.
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Finds `commerce-gateway` on PATH, falling back to the repository's .venv. */
export function coreCommand(): string {
  const candidates = (process.env.PATH ?? "").split(delimiter).filter(Boolean).map((dir) => join(dir, "commerce-gateway"));
  candidates.push(join(PACKAGE_ROOT, "..", "..", ".venv", "bin", "commerce-gateway"));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next
    }
  }
  throw new Error("commerce-gateway not found on PATH nor in ../../.venv/bin: run `make install`");
}

/** Polls `condition` until true; fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, message: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A running `commerce-gateway core` on a data dir of its own. */
export class CoreProcess {
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #stderr = "";
  address = "";

  private constructor(
    readonly dataDir: string,
    private readonly env: Record<string, string>,
  ) {}

  /** Starts a core on a fresh temporary data dir and an ephemeral port, with extra env. */
  static async start(env: Record<string, string> = {}): Promise<CoreProcess> {
    const core = new CoreProcess(mkdtempSync(join(tmpdir(), "cg-ts-core-")), env);
    await core.#launch("127.0.0.1:0");
    return core;
  }

  async #launch(listen: string): Promise<void> {
    const readyFile = join(this.dataDir, "ready.json");
    rmSync(readyFile, { force: true });
    this.address = "";
    const args = ["core", "--listen", listen, "--data-dir", this.dataDir, "--ready-file", readyFile];
    const env = { ...process.env, ...this.env };
    const child = spawn(coreCommand(), args, { stdio: ["ignore", "ignore", "pipe"], env });
    child.stderr?.on("data", (chunk: Buffer) => {
      this.#stderr += chunk.toString();
    });
    this.#exited = new Promise((resolve) => child.once("exit", () => resolve()));
    this.#child = child;
    await waitFor(() => this.#readAddress(readyFile) || child.exitCode !== null, "the core's ready file");
    if (!this.address) {
      throw new Error(`the core exited before it was ready: ${this.#stderr.slice(-2000)}`);
    }
  }

  #readAddress(readyFile: string): boolean {
    try {
      const ready = JSON.parse(readFileSync(readyFile, "utf8")) as { grpc?: string };
      this.address = ready.grpc ?? "";
      return this.address !== "";
    } catch {
      return false;
    }
  }

  /** Kills the core with SIGKILL and waits until it is gone. */
  async kill(): Promise<void> {
    this.#child?.kill("SIGKILL");
    await this.#exited;
  }

  /** Starts the core again on the same data dir and the same port. */
  async restart(): Promise<void> {
    await this.#launch(this.address);
  }

  /** Stops the core and removes its data dir. */
  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
