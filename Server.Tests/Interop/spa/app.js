// A single-page app as oidc-client-ts's documentation sets one up: a public client, the code flow with PKCE, tokens
// fetched by the browser across origins (CORS), userinfo loaded, renewal with the refresh token and in a hidden
// iframe, RP-initiated logout.
// OidcClientTsBrowserTests drives it through window.app and reads the outcome from body[data-state].
const config = await (await fetch('/config.json')).json();
const manager = new oidc.UserManager({
  authority: config.authority,
  client_id: config.clientId,
  redirect_uri: `${location.origin}/callback`,
  post_logout_redirect_uri: `${location.origin}/signed-out`,
  silent_redirect_uri: `${location.origin}/silent`,
  response_type: 'code',
  scope: 'openid profile email offline_access',
  loadUserInfo: true,
  automaticSilentRenew: false,
  // Sign-out first revokes the refresh and access tokens (RFC 7009) with cross-origin POSTs, then ends the session.
  revokeTokensOnSignout: true,
  revokeTokenTypes: ['refresh_token', 'access_token'],
});

const summary = (user) => user && {
  sub: user.profile.sub,
  email: user.profile.email,
  accessToken: user.access_token,
  hasRefreshToken: Boolean(user.refresh_token),
  scope: user.scope,
  expired: user.expired,
};

window.app = {
  signIn: () => manager.signinRedirect(),
  user: async () => summary(await manager.getUser()),
  renew: async () => summary(await manager.signinSilent()),
  // Without a refresh token oidc-client-ts renews in a hidden iframe: /authorize with prompt=none over the session.
  renewInFrame: async () => {
    const user = await manager.getUser();
    await manager.storeUser(new oidc.User({ ...user, refresh_token: undefined }));
    return summary(await manager.signinSilent());
  },
  signOut: () => manager.signoutRedirect(),
};

try {
  if (location.pathname === '/silent') await manager.signinSilentCallback();
  if (location.pathname === '/callback') await manager.signinCallback();
  if (location.pathname === '/signed-out') await manager.signoutCallback();
  document.body.dataset.state = location.pathname.slice(1) || 'ready';
} catch (error) {
  document.getElementById('error').textContent = String(error);
  document.body.dataset.state = 'error';
}
