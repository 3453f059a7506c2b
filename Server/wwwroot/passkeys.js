// Passkey ceremonies (WebAuthn) for the sign-in, second-step and security pages. A file, not an inline script: the
// content security policy allows scripts from this site only.
//
// A form marked data-passkey="create" or "get" works like this: its own fields (antiforgery token, a name) are posted to
// its data-options URL, which answers with the options JSON Identity made; the browser asks the authenticator; the
// answer goes into the form's hidden "Credential" field and the form is submitted as usual. The server checks it.
(() => {
  'use strict';

  const supported = typeof window.PublicKeyCredential === 'function' && navigator.credentials;

  const fromBase64Url = (text) => {
    const base64 = text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=');
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)).buffer;
  };

  const toBase64Url = (buffer) =>
    btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

  // Browsers without PublicKeyCredential.parse*OptionsFromJSON: decode the binary fields by hand.
  const creationOptions = (json) => {
    if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function') {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    return {
      ...json,
      challenge: fromBase64Url(json.challenge),
      user: { ...json.user, id: fromBase64Url(json.user.id) },
      excludeCredentials: (json.excludeCredentials || []).map((c) => ({ ...c, id: fromBase64Url(c.id) })),
    };
  };

  const requestOptions = (json) => {
    if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function') {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    return {
      ...json,
      challenge: fromBase64Url(json.challenge),
      allowCredentials: (json.allowCredentials || []).map((c) => ({ ...c, id: fromBase64Url(c.id) })),
    };
  };

  // Browsers without PublicKeyCredential.prototype.toJSON: the same JSON shape, by hand.
  const credentialJson = (credential) => {
    if (typeof credential.toJSON === 'function') {
      return JSON.stringify(credential);
    }
    const response = credential.response;
    const json = {
      id: credential.id,
      rawId: toBase64Url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toBase64Url(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      json.response.attestationObject = toBase64Url(response.attestationObject);
      json.response.transports = typeof response.getTransports === 'function' ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toBase64Url(response.authenticatorData);
      json.response.signature = toBase64Url(response.signature);
      json.response.userHandle = response.userHandle ? toBase64Url(response.userHandle) : null;
    }
    return JSON.stringify(json);
  };

  const say = (form, text) => {
    const status = form.querySelector('[data-passkey-status]');
    if (status) {
      status.textContent = text;
      status.hidden = false;
    }
  };

  const fetchOptions = async (form) => {
    const response = await fetch(form.dataset.options, {
      method: 'POST',
      body: new FormData(form),
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
    });
    if (!response.ok) {
      throw new Error(response.status === 429 ? 'Too many attempts. Wait a few minutes and try again.' : 'The server could not start the passkey request.');
    }
    return response.json();
  };

  const finish = (form, credential) => {
    form.querySelector('input[name="Credential"]').value = credentialJson(credential);
    HTMLFormElement.prototype.submit.call(form);
  };

  // Conditional mediation: the browser offers this site's passkeys in the username field's autofill (WebAuthn §5.1.4).
  let conditional = null;

  const startConditional = async (form) => {
    if (typeof PublicKeyCredential.isConditionalMediationAvailable !== 'function'
      || !(await PublicKeyCredential.isConditionalMediationAvailable())) {
      return;
    }
    conditional = new AbortController();
    const signal = conditional.signal;
    try {
      const json = await fetchOptions(form);
      const credential = await navigator.credentials.get({ mediation: 'conditional', publicKey: requestOptions(json), signal });
      if (credential) {
        finish(form, credential);
      }
    } catch {
      // Aborted for the button, or dismissed: the person signs in another way.
    }
  };

  const run = async (form) => {
    if (conditional) {
      conditional.abort();
      conditional = null;
    }
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      const json = await fetchOptions(form);
      const credential = form.dataset.passkey === 'create'
        ? await navigator.credentials.create({ publicKey: creationOptions(json) })
        : await navigator.credentials.get({ publicKey: requestOptions(json) });
      finish(form, credential);
    } catch (error) {
      button.disabled = false;
      say(form, error && error.name === 'NotAllowedError'
        ? 'The passkey request was cancelled or timed out.'
        : error && error.name === 'InvalidStateError'
          ? 'This passkey is already registered.'
          : (error && error.message) || 'The passkey request did not work.');
    }
  };

  document.querySelectorAll('form[data-passkey]').forEach((form) => {
    if (!supported) {
      say(form, 'This browser does not support passkeys.');
      form.querySelector('button').disabled = true;
      return;
    }
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      run(form);
    });
    if (form.dataset.conditional === 'true') {
      startConditional(form);
    }
  });
})();
