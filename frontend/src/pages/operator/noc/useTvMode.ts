import { useCallback, useEffect, useRef, useState } from "react";

import { useChrome } from "../../../layout/chrome";

/** Inputs that take no text: F on a focused radio (the range switch) still toggles TV mode. */
const NOT_TEXT = new Set(["checkbox", "radio", "button", "submit", "reset", "range", "color", "file"]);

/** Typing in a field must not toggle TV mode. */
function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  const tag = target.tagName;
  if (tag === "INPUT") return !NOT_TEXT.has((target as HTMLInputElement).type);
  return tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
}

/**
 * TV mode for a wall screen: full screen (when the browser allows it) and no header or navigation.
 * F toggles it (not while typing), Escape leaves it; leaving full screen from the browser leaves it too.
 */
export function useTvMode() {
  const chrome = useChrome();
  const [tv, setTv] = useState(false);
  const wentFullscreen = useRef(false);
  const setHidden = chrome.setHidden;

  const enter = useCallback(() => {
    setTv(true);
    setHidden(true);
    const root = document.documentElement;
    if (typeof root.requestFullscreen !== "function") return;
    try {
      Promise.resolve(root.requestFullscreen())
        .then(() => {
          wentFullscreen.current = true;
        })
        .catch(() => undefined); // refused (no user gesture, iframe, kiosk policy): TV mode without full screen
    } catch {
      // some browsers throw instead of rejecting
    }
  }, [setHidden]);

  const exit = useCallback(() => {
    setTv(false);
    setHidden(false);
    if (wentFullscreen.current && document.fullscreenElement && typeof document.exitFullscreen === "function") {
      Promise.resolve(document.exitFullscreen()).catch(() => undefined);
    }
    wentFullscreen.current = false;
  }, [setHidden]);

  const toggle = useCallback(() => (tv ? exit() : enter()), [tv, enter, exit]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
      if (event.key === "f" || event.key === "F") {
        event.preventDefault();
        toggle();
      } else if (event.key === "Escape" && tv) {
        exit();
      }
    };
    const onFullscreenChange = () => {
      if (!document.fullscreenElement && wentFullscreen.current) {
        wentFullscreen.current = false;
        if (tv) exit();
      }
    };
    window.addEventListener("keydown", onKey);
    document.addEventListener("fullscreenchange", onFullscreenChange);
    return () => {
      window.removeEventListener("keydown", onKey);
      document.removeEventListener("fullscreenchange", onFullscreenChange);
    };
  }, [toggle, exit, tv]);

  // Leaving the page must bring the chrome back.
  useEffect(() => () => setHidden(false), [setHidden]);

  return { tv, toggle, enter, exit };
}
