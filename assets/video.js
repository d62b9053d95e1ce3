/* The video visit's call (page /video/<appointment id>): the waiting room, the doctor's admission,
 * a two-way WebRTC call (media peer to peer), camera and microphone switches and a text chat over
 * the peers' data channel. Signalling goes through WS /api/video/<id>/signal, which decides on the
 * server who may join (a refusal's reason is shown) and relays the messages (see api/video.py).
 * Nothing of the call is recorded: the chat lives in this page only.
 *
 * Reflex draws the page; this script finds its parts by id (and binds them again if Reflex redraws
 * them), so it is loaded once and checks every 300 ms which page it is on. */
(function () {
  "use strict";
  if (window.__portalVideoLoaded) return;
  window.__portalVideoLoaded = true;

  var PATH = /^\/video\/([0-9a-fA-F-]{36})\/?$/;
  var $ = function (id) { return document.getElementById(id); };
  var current = null;

  // the page draws these hidden by a class: an inline value overrides it either way
  function show(id, on) { var el = $(id); if (el) el.style.display = on ? "block" : "none"; }
  function text(id, value) { var el = $(id); if (el) el.textContent = value; }

  function Call(aid) {
    this.aid = aid;
    this.role = "";
    this.peer = "the other person";
    this.ice = [];
    this.ws = null;
    this.pc = null;
    this.dc = null;
    this.local = null;
    this.remote = null;
    this.pending = [];
    this.admitted = false;
    this.ended = false;
    this.start();
  }

  Call.prototype.state = function (value) { var r = $("video-root"); if (r) r.setAttribute("data-state", value); };
  Call.prototype.say = function (value) { text("video-status", value); };

  Call.prototype.start = function () {
    var self = this;
    this.state("starting");
    var media = navigator.mediaDevices && navigator.mediaDevices.getUserMedia
      ? navigator.mediaDevices.getUserMedia({ video: true, audio: true })
      : Promise.reject(new Error("no media devices"));
    media.then(function (stream) { self.local = stream; })
      .catch(function () { self.noMedia = true; })
      .then(function () { if (!self.ended) self.connect(); });
  };

  Call.prototype.connect = function () {
    var self = this;
    var scheme = location.protocol === "https:" ? "wss:" : "ws:";
    var ws = new WebSocket(scheme + "//" + location.host + "/api/video/" + this.aid + "/signal");
    this.ws = ws;
    ws.onmessage = function (event) {
      var msg;
      try { msg = JSON.parse(event.data); } catch (e) { return; }
      self.on(msg);
    };
    ws.onclose = function () {
      if (self.ended) return;
      self.finish("The connection to the clinic was lost. Reload the page to join again.");
    };
  };

  Call.prototype.send = function (type, data) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: type, data: data }));
  };

  Call.prototype.on = function (msg) {
    var self = this;
    switch (msg.type) {
      case "refused":
        this.ended = true;
        this.state("refused");
        text("video-refused-text", msg.message || "You cannot join this video visit.");
        text("video-peer", "Not available");
        show("video-refused", true);
        show("video-call", false);
        this.stopMedia();
        break;
      case "joined":
        this.role = msg.role;
        this.peer = msg.peer || this.peer;
        this.ice = msg.ice_servers || [];
        text("video-peer", "With " + this.peer);
        show("video-call", true);
        this.bind();
        this.state("waiting");
        if (this.noMedia) this.note("Your camera or microphone is not available. You can still hear, see and write.");
        this.say(this.role === "doctor" ? "Waiting for " + this.peer + " to join…"
          : "You are in the waiting room. " + this.peer + " will let you in.");
        break;
      case "hello":
      case "here":
        if (msg.type === "hello") this.send(this.role === "patient" && this.admitted ? "ready" : "here");
        if (this.role === "doctor") {
          if (!this.pc || this.pc.connectionState !== "connected") {
            this.say(this.peer + " is waiting.");
            show("video-admit-box", true);
            var admit = $("video-admit");
            if (admit) admit.focus();
          }
        } else if (!this.admitted) {
          this.say(this.peer + " is here and will let you in shortly.");
        }
        break;
      case "admit":
        this.admitted = true;
        this.say("Connecting…");
        this.send("ready");
        break;
      case "ready":
        if (this.role === "doctor") this.offer();
        break;
      case "offer":
        this.peerConnection();
        this.pc.setRemoteDescription(msg.data)
          .then(function () { self.flush(); return self.pc.createAnswer(); })
          .then(function (answer) { return self.pc.setLocalDescription(answer); })
          .then(function () { self.send("answer", { type: "answer", sdp: self.pc.localDescription.sdp }); })
          .catch(function () { self.say("The call could not start. Leave and join again."); });
        break;
      case "answer":
        if (this.pc) this.pc.setRemoteDescription(msg.data).then(function () { self.flush(); }).catch(function () {});
        break;
      case "ice":
        if (!msg.data) break;
        if (this.pc && this.pc.remoteDescription) this.pc.addIceCandidate(msg.data).catch(function () {});
        else this.pending.push(msg.data);
        break;
      case "bye":
        this.closePeer();
        this.state("waiting");
        this.chatReady(false);
        if (this.role === "doctor") {
          show("video-admit-box", false);
          this.say(this.peer + " has left the video visit. They can join again until its end.");
        } else {
          this.admitted = false;
          this.say(this.peer + " has left the video visit. Please wait: you will be let in again.");
        }
        break;
      case "notice":
        if (msg.message) this.say(msg.message);
        break;
      default:
        break;
    }
  };

  Call.prototype.flush = function () {
    var pc = this.pc;
    this.pending.splice(0).forEach(function (c) { pc.addIceCandidate(c).catch(function () {}); });
  };

  Call.prototype.peerConnection = function () {
    var self = this;
    this.closePeer();
    var pc = new RTCPeerConnection({ iceServers: this.ice });
    this.pc = pc;
    this.pending = [];
    if (this.local) {
      this.local.getTracks().forEach(function (t) { pc.addTrack(t, self.local); });
    } else {
      pc.addTransceiver("video", { direction: "recvonly" });
      pc.addTransceiver("audio", { direction: "recvonly" });
    }
    this.remote = new MediaStream();
    pc.ontrack = function (event) {
      self.remote.addTrack(event.track);
      self.attach();
    };
    pc.onicecandidate = function (event) {
      if (event.candidate) self.send("ice", event.candidate.toJSON());
    };
    pc.onconnectionstatechange = function () {
      if (self.pc !== pc) return;
      if (pc.connectionState === "connected") {
        self.state("connected");
        self.say("Connected with " + self.peer + ".");
        show("video-admit-box", false);
      } else if (pc.connectionState === "failed") {
        self.state("failed");
        self.say("The call could not connect. Your network may need a relay (TURN) server: ask the clinic.");
      }
    };
    pc.ondatachannel = function (event) { self.chat(event.channel); };
    this.attach();
    return pc;
  };

  Call.prototype.offer = function () {
    var self = this;
    var pc = this.peerConnection();
    this.chat(pc.createDataChannel("chat"));
    show("video-admit-box", false);
    this.say("Connecting…");
    pc.createOffer()
      .then(function (offer) { return pc.setLocalDescription(offer); })
      .then(function () { self.send("offer", { type: "offer", sdp: pc.localDescription.sdp }); })
      .catch(function () { self.say("The call could not start. Leave and join again."); });
  };

  Call.prototype.chat = function (channel) {
    var self = this;
    this.dc = channel;
    channel.onopen = function () { self.chatReady(true); };
    channel.onclose = function () { self.chatReady(false); };
    channel.onmessage = function (event) { self.line(self.peer, String(event.data).slice(0, 1000)); };
  };

  Call.prototype.chatReady = function (on) {
    var input = $("video-chat-input");
    if (input) input.placeholder = on ? "Write a message" : "The chat opens when the call connects";
  };

  Call.prototype.line = function (who, value) {
    var log = $("video-chat-log");
    if (!log) return;
    var p = document.createElement("p");
    p.className = "video-chat-line";
    p.style.margin = "0.25rem 0";
    var b = document.createElement("strong");
    b.textContent = who + ": ";
    p.appendChild(b);
    p.appendChild(document.createTextNode(value));
    log.appendChild(p);
    log.scrollTop = log.scrollHeight;
  };

  Call.prototype.note = function (value) { this.line("Note", value); };

  Call.prototype.attach = function () {
    var remote = $("video-remote");
    var local = $("video-local");
    if (remote && this.remote && remote.srcObject !== this.remote) remote.srcObject = this.remote;
    if (local && this.local && local.srcObject !== this.local) local.srcObject = this.local;
  };

  Call.prototype.toggle = function (kind, button, on, off) {
    if (!this.local) return;
    var tracks = kind === "video" ? this.local.getVideoTracks() : this.local.getAudioTracks();
    if (!tracks.length) return;
    var enabled = !tracks[0].enabled;
    tracks.forEach(function (t) { t.enabled = enabled; });
    button.setAttribute("aria-pressed", enabled ? "true" : "false");
    var label = button.querySelector(".video-switch-label");
    if (label) label.textContent = enabled ? on : off;
  };

  Call.prototype.bind = function () {
    var self = this;
    this.attach();
    var once = function (id, kind, fn) {
      var el = $(id);
      if (!el || el.getAttribute("data-bound") === "1") return;
      el.setAttribute("data-bound", "1");
      el.addEventListener(kind, fn);
    };
    once("video-admit", "click", function () {
      show("video-admit-box", false);
      self.say("Letting " + self.peer + " in…");
      self.send("admit");
    });
    once("video-camera", "click", function (e) { self.toggle("video", e.currentTarget, "Camera on", "Camera off"); });
    once("video-mic", "click", function (e) { self.toggle("audio", e.currentTarget, "Microphone on", "Microphone off"); });
    once("video-leave", "click", function () { self.leave(); });
    once("video-chat-form", "submit", function (e) {
      e.preventDefault();
      var input = $("video-chat-input");
      var value = input ? input.value.trim() : "";
      if (!value) return;
      if (!self.dc || self.dc.readyState !== "open") {
        self.note("The chat opens when the call connects.");
        return;
      }
      self.dc.send(value.slice(0, 1000));
      self.line("You", value.slice(0, 1000));
      input.value = "";
    });
  };

  Call.prototype.closePeer = function () {
    if (this.dc) { try { this.dc.close(); } catch (e) { /* closed */ } }
    if (this.pc) { try { this.pc.close(); } catch (e) { /* closed */ } }
    this.dc = null;
    this.pc = null;
  };

  Call.prototype.stopMedia = function () {
    if (this.local) this.local.getTracks().forEach(function (t) { t.stop(); });
    this.local = null;
  };

  Call.prototype.finish = function (message) {
    this.ended = true;
    this.closePeer();
    this.stopMedia();
    this.state("ended");
    text("video-ended-text", message);
    show("video-call", false);
    show("video-ended", true);
  };

  Call.prototype.leave = function () {
    this.send("leave");
    this.finish("You have left the video visit.");
    if (this.ws) { try { this.ws.close(); } catch (e) { /* closed */ } }
  };

  function tick() {
    var match = location.pathname.match(PATH);
    if (!match || !$("video-root")) {
      if (current && !match) {  // left the page inside the app: hang up
        current.leave();
        current = null;
        window.portalVideoCall = null;
      }
      return;
    }
    if (current && current.aid === match[1]) {
      if (!current.ended && current.role) current.bind();
      return;
    }
    if (current) current.leave();
    current = new Call(match[1]);
    window.portalVideoCall = current;  // for the browser tests: .pc, .state
  }

  window.addEventListener("pagehide", function () { if (current) current.leave(); });
  setInterval(tick, 300);
  tick();
})();
