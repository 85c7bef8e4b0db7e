// Deploy and manage functions: /v1/functions[/{name}[/versions]].
import { isoTime } from '../common/clock.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WispError } from '../errors.js';
import { checkEnvChanges, type EnvChanges } from '../registry/function-env.js';
import type { FunctionView } from '../registry/registry.js';
import type { VersionRecord } from '../store/records.js';
import { useJsonParser } from './json-body.js';
import { checkFunctionNames } from './name-check.js';
import { answerError } from './problem.js';
import { requestSchemas } from './request-schemas.js';
import type { Services } from './services.js';
import { readDeployBody, registerUploadParsers } from './upload.js';

type NameParams = { Params: { name: string } };

const nameParams = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } as const;

const versionView = ({ name, version, digest, createdAt, config, exports }: VersionRecord) => ({
  name,
  version,
  digest,
  createdAt: isoTime(createdAt),
  config,
  exports,
});

const functionView = (fn: FunctionView) => ({
  name: fn.name,
  activeVersion: fn.activeVersion,
  latestVersion: fn.latestVersion,
  createdAt: isoTime(fn.createdAt),
  updatedAt: isoTime(fn.updatedAt),
  config: fn.active.config,
  exports: fn.active.exports,
  digest: fn.active.digest,
});

/** The deploy config's `env` goes to the function's secrets, never into the version record. */
function splitEnv(deployConfig: unknown): { versionConfig: unknown; envChanges: EnvChanges | undefined } {
  if (typeof deployConfig !== 'object' || deployConfig === null || !('env' in deployConfig)) return { versionConfig: deployConfig, envChanges: undefined };
  const { env, ...versionConfig } = deployConfig as Record<string, unknown>;
  return { versionConfig, envChanges: checkEnvChanges(env) };
}

/** Only the deploy route takes uploads, so only its too-large answer names the upload limit. */
function uploadErrors(uploadBytes: number) {
  return (err: unknown, request: FastifyRequest, reply: FastifyReply) =>
    answerError(err, request, reply, (problem) =>
      problem.code === 'PAYLOAD_TOO_LARGE' ? new WispError('UPLOAD_TOO_LARGE', `the upload is larger than limits.uploadBytes (${uploadBytes} bytes)`) : problem,
    );
}

/** The deploy route, in a scope of its own: it takes code of any type, the others take JSON. */
async function deployRoute(app: FastifyInstance, { registry, env, config }: Services): Promise<void> {
  await registerUploadParsers(app, config.limits.uploadBytes);
  checkFunctionNames(app);
  const deployOptions = { bodyLimit: config.limits.uploadBytes, schema: { params: nameParams }, errorHandler: uploadErrors(config.limits.uploadBytes) };
  app.put<NameParams>('/v1/functions/:name', deployOptions, async (request, reply) => {
    const { upload, config: deployConfig } = await readDeployBody(request.params.name, request);
    const { versionConfig, envChanges } = splitEnv(deployConfig);
    const version = await registry.deploy(request.params.name, upload, versionConfig);
    if (envChanges) await env.apply(version.name, envChanges);
    return reply.code(201).header('location', `/v1/functions/${version.name}`).send(versionView(version));
  });
}

export async function functionRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { registry, env } = services;
  await app.register(deployRoute, services);
  useJsonParser(app);
  checkFunctionNames(app);

  app.get('/v1/functions', async () => ({ functions: registry.list().map(functionView) }));

  app.get<NameParams>('/v1/functions/:name', { schema: { params: nameParams } }, async (request) =>
    functionView(registry.get(request.params.name)),
  );

  app.get<NameParams>('/v1/functions/:name/versions', { schema: { params: nameParams } }, async (request) => ({
    versions: registry.versions(request.params.name).map(versionView),
  }));

  app.patch<NameParams & { Body: { activeVersion: number } }>(
    '/v1/functions/:name',
    {
      schema: { params: nameParams, ...requestSchemas('/v1/functions/{name}', 'patch') },
    },
    async (request) => functionView(await registry.rollback(request.params.name, request.body.activeVersion)),
  );

  app.delete<NameParams>('/v1/functions/:name', { schema: { params: nameParams } }, async (request, reply) => {
    await registry.delete(request.params.name);
    await env.forget(request.params.name);
    return reply.code(204).send();
  });
}
