// The login form: POSTs JSON (the server refuses other bodies), then opens the manager.
'use strict';

document.getElementById('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const error = document.getElementById('login-error');
  const button = document.getElementById('login-button');
  error.hidden = true;
  button.disabled = true;
  try {
    const response = await fetch('/login', {
      method: 'POST',
      headers: {'Content-Type': 'application/json'},
      credentials: 'same-origin',
      body: JSON.stringify({
        user: document.getElementById('user').value,
        password: document.getElementById('password').value,
      }),
    });
    if (response.ok) {
      window.location.assign('/');
      return;
    }
    const body = await response.json().catch(() => ({}));
    error.textContent = body.error || `Sign-in failed (${response.status})`;
    error.hidden = false;
  } catch (e) {
    error.textContent = 'The server cannot be reached.';
    error.hidden = false;
  } finally {
    button.disabled = false;
  }
});
