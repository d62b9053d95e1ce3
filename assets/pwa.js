/* The phone app's page side (linked from every page's head): registers the service worker and turns
 * Web Push on or off for this device. window.portalPwa is what the account page's buttons call.
 *
 * The service worker is registered on a person's action ("Get the app ready", "Turn on
 * notifications") and, once installed, whenever the portal runs as the installed app (display mode
 * standalone) — never by merely opening a page in a browser tab, so an ordinary visit (and every
 * browser test) runs without one. It is registered after the page has loaded, off the critical path.
 */
(function () {
  "use strict";
  var installPrompt = null;
  var supported = "serviceWorker" in navigator;

  window.addEventListener("beforeinstallprompt", function (event) {
    event.preventDefault();  // offered from the account page's button instead of the browser's bar
    installPrompt = event;
  });

  function say(text) {
    var box = document.getElementById("pwa-status");
    if (box) box.textContent = text;
    return text;
  }

  function register() {
    if (!supported) return Promise.reject(new Error("no service worker"));
    return navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    });
  }

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function send(method, path, body) {
    return fetch(path, {
      method: method, credentials: "same-origin", cache: "no-store",
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error(data.detail || "The portal could not save this. Please try again.");
        return data;
      });
    });
  }

  function getReady() {
    if (!supported) return Promise.resolve(say("This browser cannot install Patient Portal as an app."));
    return register().then(function () {
      if (installPrompt) {
        var prompt = installPrompt;
        installPrompt = null;
        return prompt.prompt().then(function () {
          return say("Follow your browser's steps to add Patient Portal to your home screen.");
        });
      }
      return say("Ready. Use your browser's menu and choose \u201cInstall app\u201d or \u201cAdd to Home screen\u201d.");
    }).catch(function () { return say("The app could not be set up in this browser. Please try again."); });
  }

  function enablePush() {
    if (!supported || !("PushManager" in window) || !("Notification" in window)) {
      return Promise.resolve(say("This browser cannot show notifications from Patient Portal. On an iPhone, add "
        + "the portal to your home screen first and turn notifications on from there."));
    }
    say("Turning notifications on\u2026");
    return Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        throw new Error("Notifications are blocked for this site. Allow them in your browser's site settings, "
          + "then try again.");
      }
      return Promise.all([register(), send("GET", "/api/push/key")]);
    }).then(function (both) {
      return both[0].pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(both[1].publicKey) });
    }).then(function (subscription) {
      return send("POST", "/api/push/subscriptions", subscription.toJSON()).catch(function (error) {
        subscription.unsubscribe();
        throw error;
      });
    }).then(function () {
      return say("Notifications are on for this device. You will hear about new messages and appointment reminders.");
    }).catch(function (error) {
      return say(error && error.message && error.message.indexOf(" ") > 0 ? error.message
        : "Notifications could not be turned on. Please try again.");
    });
  }

  function disablePush() {
    if (!supported) return Promise.resolve(say("Notifications are off for this device."));
    return navigator.serviceWorker.getRegistration("/").then(function (registration) {
      return registration ? registration.pushManager.getSubscription() : null;
    }).then(function (subscription) {
      if (!subscription) return null;
      return send("POST", "/api/push/unsubscribe", { endpoint: subscription.endpoint }).then(function () {
        return subscription.unsubscribe();
      });
    }).then(function () {
      return say("Notifications are off for this device.");
    }).catch(function (error) {
      return say((error && error.message) || "Notifications could not be turned off. Please try again.");
    });
  }

  /* This device's subscription, if notifications are on here (null otherwise). */
  function subscription() {
    if (!supported) return Promise.resolve(null);
    return navigator.serviceWorker.getRegistration("/").then(function (registration) {
      return registration && registration.pushManager ? registration.pushManager.getSubscription() : null;
    });
  }

  /* Signing out: stop this device's notifications (told to the server while the session still holds),
     so a phone handed on does not keep telling the next person that someone has messages. Never
     keeps the sign-out waiting more than 2 seconds. */
  function forgetDevice() {
    var work = subscription().then(function (found) {
      if (!found) return null;
      return send("POST", "/api/push/unsubscribe", { endpoint: found.endpoint }).catch(function () { return null; })
        .then(function () { return found.unsubscribe(); });
    }).catch(function () { return null; });
    return Promise.race([work, new Promise(function (done) { setTimeout(done, 2000); })]);
  }

  /* Turn notifications off on every device of this account (a lost phone), this one included. */
  function disableAll() {
    return send("DELETE", "/api/push/subscriptions").then(function (answer) {
      return subscription().then(function (found) { return found ? found.unsubscribe() : null; }).catch(function () {
        return null;
      }).then(function () {
        var n = answer && typeof answer.removed === "number" ? answer.removed : 0;
        return say(n === 1 ? "Notifications are off on the one device that had them."
          : n > 1 ? "Notifications are off on all " + n + " devices that had them."
          : "No device had notifications on.");
      });
    }).catch(function (error) {
      return say((error && error.message) || "Notifications could not be turned off. Please try again.");
    });
  }

  function describe() {
    if (!supported || !("PushManager" in window) || !("Notification" in window)) return Promise.resolve("");
    if (Notification.permission === "denied") {
      return Promise.resolve(say("Notifications are blocked for this site in your browser's settings."));
    }
    return navigator.serviceWorker.getRegistration("/").then(function (registration) {
      return registration ? registration.pushManager.getSubscription() : null;
    }).then(function (subscription) {
      return subscription ? say("Notifications are on for this device.") : "";
    }).catch(function () { return ""; });
  }

  window.portalPwa = { register: register, getReady: getReady, enablePush: enablePush, disablePush: disablePush,
                       disableAll: disableAll, forgetDevice: forgetDevice, describe: describe };

  if (document.getElementById("pwa-status")) describe();  // the account card drew before this loaded

  if (supported && window.matchMedia && window.matchMedia("(display-mode: standalone)").matches) {
    var quietly = function () { register().catch(function () { return null; }); };
    if (document.readyState === "complete") setTimeout(quietly, 0); else window.addEventListener("load", quietly);
  }
})();
