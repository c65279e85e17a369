/**
 * The fastify application of an embedded node: the only place transports, engine, security
 * and configuration are wired together (HOUSE_STYLE 9).
 */
import { logStream } from '@mcp-cluster/config';
import type { Config } from '@mcp-cluster/config';
import { createSecurity, tlsServerOptions } from '@mcp-cluster/security';
import type { Security } from '@mcp-cluster/security';
import type { Engine } from '@mcp-cluster/server';
import { createHttpApp, mcpTransports } from '@mcp-cluster/transports';
import type { FastifyInstance } from '@mcp-cluster/transports';

/** The app and the security layer it was built with (the caller closes both). */
export interface EmbeddedApp {
  readonly app: FastifyInstance;
  readonly security: Security;
}

export async function buildApp(config: Config, engine: Engine): Promise<EmbeddedApp> {
  const security = await createSecurity(config.auth, {
    mode: 'embedded',
    prefix: config.clusterPrefix,
    path: config.path,
  });
  try {
    const app = createHttpApp({
      ...config,
      https: config.tls === undefined ? undefined : tlsServerOptions(config.tls),
      logStream: logStream(),
    });
    await security.registerRoutes(app);
    await app.register(mcpTransports, {
      engine: security.wrap(engine),
      settings: config,
      ...(security.guard === undefined ? {} : { guard: security.guard }),
    });
    return { app, security };
  } catch (err) {
    await security.close();
    throw err;
  }
}
