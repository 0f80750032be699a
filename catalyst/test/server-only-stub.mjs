// For the tests only: 'server-only' throws outside a React Server Components bundle, which a
// plain Node process is not. The component is called as a server would call it, and its
// element tree rendered with react-dom's static renderer, so the guard is replaced by an empty
// module here (and proved to throw without it, in the test).
import { register } from "node:module";

register(
  "data:text/javascript," +
    encodeURIComponent(`
      export async function resolve(specifier, context, next) {
        if (specifier === "server-only") {
          return { url: "data:text/javascript,export {}", shortCircuit: true };
        }
        return next(specifier, context);
      }
    `),
);
