// The browser tests start servers through the server's test helpers, which read what the global setup provides.
// The server declares this in its global setup (packages/server/src/test/global-setup.ts), outside this project.
import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplatePath: string;
  }
}
