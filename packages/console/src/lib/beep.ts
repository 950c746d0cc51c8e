let context: AudioContext | undefined;

/**
 * A short two-tone chime made with WebAudio (no sound file to load). Browsers only let a page make sound after the
 * user has interacted with it; before that the context stays suspended and this is silent.
 */
export function beep(): void {
  try {
    context ??= new AudioContext();
    if (context.state === 'suspended') void context.resume();
    const now = context.currentTime;
    const gain = context.createGain();
    gain.connect(context.destination);
    gain.gain.setValueAtTime(0.0001, now);
    gain.gain.exponentialRampToValueAtTime(0.12, now + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.35);
    for (const [freq, start] of [
      [880, 0],
      [1320, 0.09],
    ] as const) {
      const osc = context.createOscillator();
      osc.type = 'sine';
      osc.frequency.setValueAtTime(freq, now + start);
      osc.connect(gain);
      osc.start(now + start);
      osc.stop(now + 0.36);
    }
  } catch {
    // No audio device or API: notifications stay visual.
  }
}
