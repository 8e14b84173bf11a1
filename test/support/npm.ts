/**
 * The environment of an npm child: this process's, without what an npm
 * script above this test set for its own package and workspace (npm run
 * exports them as npm_* variables, and a child npm would take them as its
 * own options).
 */
export function npmEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_(package|lifecycle)_|^npm_config_(workspaces?|include_workspace_root|prefix|local_prefix|global|omit|include|production|json)$/i.test(k)) env[k] = v;
  return { ...env, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false", ...extra };
}
