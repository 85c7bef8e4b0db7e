// Handles a GitHub repository's push events, delivered through a webhook trigger.
export default async ({ type, payload }: { type: string; payload: any }) => {
  if (type !== 'push') return { ignored: type };
  console.log(`${payload.pusher.name} pushed ${payload.commits.length} commit(s) to ${payload.ref}`);
  return { ref: payload.ref, commits: payload.commits.length };
};
