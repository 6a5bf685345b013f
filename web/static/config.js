// The map's configuration, written by the server into the page as JSON.

export const config = JSON.parse(document.getElementById('config').textContent);
