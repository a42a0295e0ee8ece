// Refuse a file over the limit as soon as it is chosen, before it is uploaded: on a slow
// connection a file the server then refused took over a minute to send. Progressive
// enhancement only: without JavaScript the server refuses it with the same limit and message.
document.addEventListener("change", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.dataset.maxBytes) {
    return;
  }
  const limit = Number(input.dataset.maxBytes);
  const tooLarge = Array.from(input.files || []).some((file) => file.size > limit);
  input.setCustomValidity(tooLarge ? input.dataset.tooLarge || "" : "");
  if (tooLarge) {
    input.reportValidity();
  }
});
