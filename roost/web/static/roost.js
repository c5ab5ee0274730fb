/* Roost's progressive enhancements. Every page works without this file; with it: a live
   character counter, posting and favourite/repost/follow without a reload, "load newer posts"
   and live updates from the streaming API, and relative times that keep up. */
(function () {
  "use strict";

  /* Counting as the server does (roost/domain/text.py): code points, every link as 23,
     a remote mention @user@host as @user. The tokens are matched in the same order. */
  var URL_LENGTH = 23;
  var W = "\\p{L}\\p{N}_";  // Python's \w
  var TOKEN = new RegExp(
    "(https?:\\/\\/[^\\s<>\"']+[^\\s<>\"'.,;:!?)\\]}])" +
    "|((?<![" + W + "\\/@])@([a-zA-Z0-9_]{1,30})(?:@([" + W + ".-]+[" + W + "]))?)" +
    "|((?<![" + W + "\\/&#])#([" + W + "]*[\\p{L}\\p{Nl}\\p{No}][" + W + "]*))",
    "gu"
  );

  function count(text) {
    var total = 0, last = 0, match;
    text = text.replace(/\r\n/g, "\n").trim();
    TOKEN.lastIndex = 0;
    while ((match = TOKEN.exec(text)) !== null) {
      total += Array.from(text.slice(last, match.index)).length;
      if (match[1]) total += URL_LENGTH;
      else if (match[2]) total += 1 + match[3].length;
      else total += Array.from(match[0]).length;
      last = match.index + match[0].length;
    }
    return total + Array.from(text.slice(last)).length;
  }
  window.roostCount = count;

  function counter(area) {
    var max = parseInt(area.getAttribute("data-counter"), 10);
    var out = document.getElementById(area.id + "-count");
    if (!out) return;
    var zone = "ok";
    function update() {
      var left = max - count(area.value);
      out.textContent = left >= 0 ? left + " characters left" : -left + " characters too many";
      out.classList.toggle("over", left < 0);
      /* Speak only when crossing a line, not on every key. */
      var now = left < 0 ? "over" : left <= 20 ? "near" : "ok";
      if (now !== zone && now !== "ok") say(out.textContent);
      zone = now;
    }
    area.addEventListener("input", update);
    update();
  }

  /* Send a form with fetch; resolves to {status, data}. What is not the site's JSON (the
     shield's HTML "too many requests" or "busy" page, a proxy's error) becomes an error the
     form can show, so a person is never left with a button that silently did nothing. */
  function post(form, url) {
    return fetch(url || form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { "X-Requested-With": "fetch", "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      if (response.status === 401) {
        window.location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
        throw new Error("login");
      }
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") !== 0) {
        return { status: response.status, data: { error: trouble(response.status) } };
      }
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    });
  }

  function trouble(status) {
    if (status === 429) return "Too many requests just now. Wait a moment, then try again.";
    if (status >= 500) return "Roost is too busy to answer right now. Try again in a moment.";
    return "That did not work. Reload the page and try again.";
  }

  var OFFLINE = "Roost could not be reached. Check your connection and try again.";

  /* A message for a form that has no place for one (an action bar, a follow button). */
  function complain(form, message) {
    var note = form.nextElementSibling;
    if (!note || !note.hasAttribute("data-complaint")) {
      note = document.createElement("p");
      note.className = "error";
      note.setAttribute("data-complaint", "");
      form.insertAdjacentElement("afterend", note);
    }
    note.textContent = message;
    say(message);
  }

  function settle(form) {
    var note = form.nextElementSibling;
    if (note && note.hasAttribute("data-complaint")) note.remove();
  }

  function fromHTML(html) {
    var box = document.createElement("div");
    box.innerHTML = html;
    return box;
  }

  function act(form, submitter) {
    var buttons = Array.prototype.slice.call(form.querySelectorAll("button"));
    var button = submitter || buttons[0];
    var index = Math.max(0, buttons.indexOf(button));
    var url = button && button.getAttribute("formaction");
    if (button) button.disabled = true;
    post(form, url).then(function (result) {
      var data = result.data;
      if (button) button.disabled = false;
      if (result.status !== 200) { complain(form, data.error || trouble(result.status)); return; }
      settle(form);
      if (data.deleted) {
        var gone = form.closest("article.status");
        if (gone) gone.remove();
        say("Deleted.");
        return;
      }
      if (!data.html) { if (url) form.action = url; form.submit(); return; }
      var target = form.closest("[data-replace]");
      var fresh = fromHTML(data.html).firstElementChild;
      if (target && fresh) {
        target.replaceWith(fresh);
        var again = fresh.querySelectorAll("button")[index] || fresh.querySelector("button") || fresh;
        if (again.focus) again.focus();
      }
      var shown = document.querySelector("[data-followers]");
      if (shown && typeof data.followers_count === "number") shown.textContent = data.followers_count;
    }).catch(function (error) {
      if (button) button.disabled = false;
      if (error.message !== "login") complain(form, OFFLINE);
    });
  }

  /* Messages beside their fields; focus moves to the first field in error (a screen reader
     then reads its label and message), or the message is announced when it is the form's. */
  function showErrors(form, errors) {
    var first = null, spoken = [];
    form.querySelectorAll("[data-error-for]").forEach(function (el) {
      var key = el.getAttribute("data-error-for");
      var input = form.querySelector("#" + key);
      el.hidden = !errors[key];
      el.textContent = errors[key] || "";
      if (input) {
        if (errors[key]) input.setAttribute("aria-invalid", "true");
        else input.removeAttribute("aria-invalid");
        if (errors[key] && !first) first = input;
      } else if (errors[key]) {
        spoken.push(errors[key]);
      }
    });
    if (first) first.focus();
    else if (spoken.length) say(spoken.join(" "));
  }

  function compose(form) {
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    post(form).then(function (result) {
      button.disabled = false;
      if (result.status !== 200) {
        showErrors(form, result.data.errors || { form: result.data.error || trouble(result.status) });
        return;
      }
      showErrors(form, {});
      var items = document.querySelector("#timeline [data-items]");
      if (items && result.data.html) {
        insert(items, result.data.html, true);
        var text = form.querySelector("textarea");
        text.value = "";
        text.dispatchEvent(new Event("input"));
        form.querySelector("#spoiler_text").value = "";
        say("Posted.");
      } else {
        window.location.href = result.data.url;
      }
    }).catch(function (error) {
      button.disabled = false;
      if (error.message !== "login") showErrors(form, { form: OFFLINE });
    });
  }

  /* True for a post of text only. Pictures go as they go without this script: "Attach" and
     "Remove" send the whole form (a file too) to /compose/media, and a post holding pictures
     goes to its own page. */
  function textOnly(form, submitter) {
    var file = form.querySelector("input[type=file]");
    if (submitter && submitter.hasAttribute("formaction")) return false;
    return !form.querySelector("[name=media_ids]") && !(file && file.files.length);
  }

  function say(message) {
    var live = document.getElementById("roost-live");
    if (!live) {
      live = document.createElement("p");
      live.id = "roost-live";
      live.className = "sr";
      live.setAttribute("role", "status");
      document.body.appendChild(live);
    }
    live.textContent = message;
  }

  /* Put new posts on top, skipping any already shown (a stream may repeat what we posted). */
  function insert(items, html, mark) {
    var added = 0;
    var nodes = Array.prototype.slice.call(fromHTML(html).querySelectorAll("article.status"));
    nodes.reverse().forEach(function (node) {
      if (items.querySelector('[data-id="' + node.getAttribute("data-id") + '"]')) return;
      if (mark) node.classList.add("fresh");
      items.insertBefore(node, items.firstChild);
      added += 1;
    });
    var empty = items.parentNode.querySelector(".empty");
    if (empty && added) empty.remove();
    if (added) items.dispatchEvent(new Event("roost:inserted"));
    return added;
  }

  function newest(items) {
    var first = items.querySelector("article.status");
    return first ? first.getAttribute("data-id") : "0";
  }

  function feed(section) {
    var items = section.querySelector("[data-items]");
    var base = section.getAttribute("data-newer");
    if (!items || !base) return;
    var holder = section.querySelector(".newer");
    if (!holder) {
      holder = document.createElement("p");
      holder.className = "newer";
      section.insertBefore(holder, section.firstChild);
    }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = "Load newer posts";
    holder.textContent = "";
    holder.appendChild(button);
    /* Ids announced by the stream and not shown yet: one's own post may be announced before
       the page has put it in, so it is counted only while it is missing. */
    var pending = {};
    function label() {
      var waiting = Object.keys(pending).filter(function (id) {
        return !items.querySelector('[data-id="' + id + '"]');
      }).length;
      button.textContent = waiting ? "Show " + waiting + " new post" + (waiting > 1 ? "s" : "") : "Load newer posts";
    }
    items.addEventListener("roost:inserted", label);
    button.addEventListener("click", function () {
      button.disabled = true;
      fetch(base + newest(items) + "&fragment=1", { credentials: "same-origin" })
        .then(function (r) {
          if (!r.ok) throw { friendly: trouble(r.status) };
          return r.text();
        })
        .then(function (html) {
          var added = insert(items, html, true);
          say(added ? added + " new posts shown." : "No newer posts yet.");
          pending = {}; label();
        })
        .catch(function (error) { say((error && error.friendly) || OFFLINE); })
        .finally(function () { button.disabled = false; });
    });
    var url = section.getAttribute("data-stream");
    if (!url || !window.EventSource) return;
    var source = new EventSource(url);
    source.addEventListener("open", function () { section.setAttribute("data-live", "on"); });
    source.addEventListener("update", function (event) {
      /* A bare id (as text: ids pass 2^53, so JSON.parse would round them), or a status. */
      var id = event.data;
      if (id.charAt(0) === "{") {
        try { id = String(JSON.parse(id).id); } catch (e) { return; }
      }
      if (items.querySelector('[data-id="' + id + '"]')) return;
      pending[id] = true; label();
    });
    source.addEventListener("delete", function (event) {
      var gone = items.querySelector('[data-id="' + event.data + '"]');
      if (gone) gone.remove();
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  function inbox(section) {
    if (!window.EventSource) return;
    var source = new EventSource(section.getAttribute("data-stream"));
    source.addEventListener("notification", function () {
      if (section.querySelector(".newer")) return;
      var note = document.createElement("p");
      note.className = "newer";
      var link = document.createElement("a");
      link.href = "/notifications";
      link.textContent = "New notifications: show them";
      note.appendChild(link);
      section.insertBefore(note, section.firstChild);
      say("You have new notifications.");
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  function relative(iso) {
    var seconds = (Date.now() - Date.parse(iso)) / 1000;
    if (seconds < 45) return "now";
    if (seconds < 3600) return Math.floor(seconds / 60) + "m";
    if (seconds < 86400) return Math.floor(seconds / 3600) + "h";
    if (seconds < 604800) return Math.floor(seconds / 86400) + "d";
    return null;
  }

  function refreshTimes() {
    document.querySelectorAll("time[datetime]").forEach(function (el) {
      var text = relative(el.getAttribute("datetime"));
      if (text) el.textContent = text;
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var kind = form.getAttribute("data-enhance");
    if (!kind || !window.fetch) return;
    if (kind === "compose" && !textOnly(form, event.submitter)) return;  /* the browser sends it */
    event.preventDefault();
    if (kind === "compose") compose(form);
    else act(form, event.submitter);
  });

  function start() {
    document.querySelectorAll("textarea[data-counter]").forEach(counter);
    var timeline = document.querySelector("section#timeline[data-newer]");
    if (timeline) feed(timeline);
    var notes = document.querySelector("#notifications[data-stream]");
    if (notes) inbox(notes);
    setInterval(refreshTimes, 60000);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
