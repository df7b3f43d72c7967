package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/khipu-go/khipu"
)

// Product is something the shop sells.
type Product struct {
	ID       string
	Name     string
	Price    khipu.Amount
	Currency string
}

// Shop is a small web shop that takes payments with Khipu.
type Shop struct {
	Khipu    Gateway
	Orders   *Store
	Products []Product
	// BaseURL is where Khipu and the payer reach the shop, e.g.
	// "https://shop.example"; notify_url, return_url and cancel_url are
	// built from it.
	BaseURL string
	Log     *slog.Logger
	// PayWithin is how long a payer has to pay: every payment's
	// expires_date is this long after the order (defaultPayWithin if 0).
	PayWithin time.Duration
	// CheckEvery is the reconciler's round interval, and how long after
	// an order it first asks Khipu about it should its notification not
	// have arrived; the later waits are multiples of it (see nextCheck;
	// defaultCheckEvery if 0).
	CheckEvery time.Duration
	// Clock is the shop's time (time.Now if nil): tests move it instead of
	// sleeping.
	Clock func() time.Time
}

// The defaults of PayWithin (-pay-within) and CheckEvery (-reconcile-every).
const (
	defaultPayWithin  = 24 * time.Hour
	defaultCheckEvery = time.Minute
)

func (s *Shop) now() time.Time {
	if s.Clock == nil {
		return time.Now()
	}
	return s.Clock()
}

func (s *Shop) payWithin() time.Duration  { return cmp.Or(s.PayWithin, defaultPayWithin) }
func (s *Shop) checkEvery() time.Duration { return cmp.Or(s.CheckEvery, defaultCheckEvery) }

// Handler returns the shop's routes.
func (s *Shop) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.productsPage)
	mux.HandleFunc("POST /orders", s.checkout)
	mux.HandleFunc("GET /orders/{id}", s.orderPage)
	mux.HandleFunc("GET /orders/{id}/status", s.status)
	mux.HandleFunc("GET /orders/{id}/cancel", s.cancel)
	mux.Handle("/khipu/notify", s.Khipu.NotificationHandler(s.deliver))
	return mux
}

func (s *Shop) product(id string) (Product, bool) {
	for _, p := range s.Products {
		if p.ID == id {
			return p, true
		}
	}
	return Product{}, false
}

var pages = template.Must(template.New("").Funcs(template.FuncMap{"money": formatMoney}).Parse(`
{{define "head"}}<!doctype html>
<html lang="es">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font-family: system-ui, sans-serif; max-width: 36rem; margin: 2rem auto; padding: 0 1rem; }
  .product { display: flex; justify-content: space-between; align-items: center; border-bottom: 1px solid #ddd; padding: .75rem 0; }
  .product span:first-child { flex: 1; }
  .price { font-weight: bold; margin: 0 1rem; }
  #state { font-size: 1.25rem; }
</style>{{end}}

{{define "products"}}{{template "head"}}
<title>Tienda</title>
<h1>Tienda</h1>
{{range .}}<form class="product" method="post" action="/orders">
  <input type="hidden" name="product" value="{{.ID}}">
  <span>{{.Name}}</span><span class="price" id="price-{{.ID}}">{{money .Price .Currency}}</span>
  <button id="buy-{{.ID}}">Pagar con Khipu</button>
</form>
{{end}}{{end}}

{{define "order"}}{{template "head"}}
<title>Pedido {{.Order.ID}}</title>
<h1>Tu pedido</h1>
<p>{{.ProductName}} — {{money .Order.Amount .Order.Currency}}</p>
<p id="state" data-order="{{.Order.ID}}" data-state="{{.State}}">{{.Text}}</p>
<p><a href="/">Volver a la tienda</a></p>
{{if not .Final}}<script>
// Coming back from Khipu proves nothing: ask the shop, which reads its own
// database (a verified notification, or the reconciler asking Khipu, moves
// the order on), until the order's state is final.
(function poll(delay) {
  setTimeout(function () {
    fetch("/orders/{{.Order.ID}}/status").then(function (r) { return r.json(); }).then(function (o) {
      var el = document.getElementById("state");
      el.dataset.state = o.state;
      el.textContent = o.text;
      if (!o.final) poll(2000);
    }).catch(function () { poll(5000); });
  }, delay);
})(1000);
</script>{{end}}{{end}}
`))

func (s *Shop) productsPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "products", s.Products)
}

func (s *Shop) render(w http.ResponseWriter, status int, page string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, page, data); err != nil {
		s.Log.Error("rendering a page", "page", page, "err", err)
	}
}

// checkout stores the order with its amount and currency, creates the Khipu
// payment for it, records the payment on the order and sends the payer to
// Khipu. The order is in the database before Khipu hears of it, so a
// notification can never arrive for an order the shop has not stored. The
// payment expires PayWithin after the order: the shop stops waiting then.
func (s *Shop) checkout(w http.ResponseWriter, r *http.Request) {
	product, ok := s.product(r.PostFormValue("product"))
	if !ok {
		http.Error(w, "Producto desconocido", http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	now := s.now()
	order, err := s.Orders.Create(ctx, product.ID, product.Price, product.Currency, now)
	if err != nil {
		s.Log.Error("storing an order", "err", err)
		http.Error(w, "No pudimos registrar tu pedido; inténtalo de nuevo", http.StatusInternalServerError)
		return
	}
	expires := now.Add(s.payWithin()).Truncate(time.Second) // as Khipu keeps it
	created, err := s.Khipu.CreatePayment(ctx, &khipu.PaymentCreateParams{
		Subject:       product.Name,
		Currency:      order.Currency,
		Amount:        order.Amount,
		TransactionID: order.ID,
		ReturnURL:     s.BaseURL + "/orders/" + order.ID,
		CancelURL:     s.BaseURL + "/orders/" + order.ID + "/cancel",
		NotifyURL:     s.BaseURL + "/khipu/notify",
		ExpiresDate:   expires,
	})
	if err == nil {
		err = s.Orders.SetPayment(ctx, order.ID, created.PaymentID, expires, now.Add(s.checkEvery()))
	}
	if err != nil {
		// Creating a payment is never retried: the payer can try again,
		// which makes a new order. This one is closed; a payment whose
		// answer was lost cannot pay it, as it is not the order's own.
		s.Log.Error("creating the Khipu payment", "order", order.ID, "err", err)
		if _, cerr := s.Orders.CloseUnpaid(context.WithoutCancel(ctx), order.ID, OrderFailed, s.now()); cerr != nil {
			s.Log.Error("closing an order without a payment", "order", order.ID, "err", cerr)
		}
		http.Error(w, "Khipu no está disponible en este momento; inténtalo de nuevo", http.StatusBadGateway)
		return
	}
	http.Redirect(w, r, created.PaymentURL, http.StatusSeeOther)
}

// orderView is what an order's page and its status poll show.
type orderView struct {
	Order       Order
	ProductName string
	State       OrderState
	Text        string // what the payer reads
	Final       bool   // nothing more will change it: stop polling
}

// stateTexts are what the payer reads in each state.
var stateTexts = map[OrderState]string{
	OrderPending:   "Pendiente: aún no recibimos tu pago.",
	OrderVerifying: "Verificando tu pago con Khipu…",
	OrderCancelled: "Cancelado: no se realizó el pago.",
	OrderPaid:      "Pagado. ¡Gracias por tu compra!",
	OrderPaidLate:  "Recibimos tu pago después de que venció el plazo para pagar: te contactaremos para enviar tu pedido o devolverte el dinero.",
	OrderExpired:   "Expirado: venció el plazo para pagar sin que recibiéramos tu pago.",
	OrderRejected:  "Rechazado: Khipu nos informa que el pago no se realizará.",
	OrderDeleted:   "Anulado: el cobro fue eliminado en Khipu.",
	OrderFailed:    "Cancelado: no pudimos crear el cobro en Khipu; inténtalo de nuevo.",
}

// view says where the order stands, from the database alone: the page
// never asks Khipu, however long it polls. The notification handler and
// the reconciler are what move an order on.
func (s *Shop) view(o Order) orderView {
	v := orderView{Order: o, ProductName: o.Product, State: o.State(), Final: o.Final()}
	if p, ok := s.product(o.Product); ok {
		v.ProductName = p.Name
	}
	v.Text = stateTexts[v.State]
	return v
}

// orderPage is the return_url: where Khipu sends the payer back. Coming
// back proves nothing, so the page says where the order stands and polls.
func (s *Shop) orderPage(w http.ResponseWriter, r *http.Request) {
	order, ok := s.order(w, r)
	if !ok {
		return
	}
	s.render(w, http.StatusOK, "order", s.view(order))
}

// status is what the order page polls.
func (s *Shop) status(w http.ResponseWriter, r *http.Request) {
	order, ok := s.order(w, r)
	if !ok {
		return
	}
	v := s.view(order)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(struct {
		ID    string     `json:"id"`
		State OrderState `json:"state"`
		Text  string     `json:"text"`
		Final bool       `json:"final"`
	}{order.ID, v.State, v.Text, v.Final})
}

// cancel is the cancel_url: Khipu sends the payer here when they give up
// on the payment page. Khipu makes it a GET, so a GET cancels; it marks
// only an open order, and a payment that arrives afterwards still pays it,
// so a stray visit costs nothing.
func (s *Shop) cancel(w http.ResponseWriter, r *http.Request) {
	order, ok := s.order(w, r)
	if !ok {
		return
	}
	changed, err := s.Orders.Cancel(r.Context(), order.ID, s.now())
	if err != nil {
		s.Log.Error("cancelling an order", "order", order.ID, "err", err)
		http.Error(w, "No pudimos cancelar tu pedido; inténtalo de nuevo", http.StatusInternalServerError)
		return
	}
	if changed {
		s.Log.Info("order cancelled", "order", order.ID)
	}
	if order, ok = s.order(w, r); ok {
		s.render(w, http.StatusOK, "order", s.view(order))
	}
}

// order reads the order named in the path, answering 404 or 500 itself
// when it cannot.
func (s *Shop) order(w http.ResponseWriter, r *http.Request) (Order, bool) {
	order, err := s.Orders.Get(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, ErrNoOrder):
		http.Error(w, "No existe ese pedido", http.StatusNotFound)
		return Order{}, false
	case err != nil:
		s.Log.Error("reading an order", "err", err)
		http.Error(w, "No pudimos leer tu pedido; inténtalo de nuevo", http.StatusInternalServerError)
		return Order{}, false
	}
	return order, true
}

// deliver runs for every notification the Gateway verified. It is quick,
// so Khipu gets its answer well inside the 30 s it waits; an error makes
// the Gateway answer 5xx, and Khipu notify again.
func (s *Shop) deliver(ctx context.Context, p *VerifiedPayment) error {
	_, err := s.settle(ctx, p, "notification")
	return err
}

// settle is what the shop does with a payment Khipu reports done, brought
// by a notification or found by the reconciler (via says which): one
// function for both, so that both check the payment against its order the
// same way and pay it once (Store.Settle). It reports whether the payment
// settled the order (paid it, paid it late, or had paid it before).
//
// A payment that does not pay its order (another payment for the same
// order id, another amount or currency) is logged and refused, and nil is
// returned: Khipu sending it again would not change it. An error is the
// database's: the notification is answered 5xx and Khipu sends it again,
// or the reconciler asks again at its next step.
func (s *Shop) settle(ctx context.Context, p *VerifiedPayment, via string) (bool, error) {
	outcome, err := s.Orders.Settle(ctx, p, s.now())
	switch {
	case errors.Is(err, ErrNoOrder):
		s.Log.Warn("payment for an unknown order", "payment", p.PaymentID, "transaction_id", p.TransactionID, "via", via)
		return false, nil
	case errors.Is(err, errNotOrdersPayment):
		// Right order id, amount and currency, maybe, but not the payment
		// this shop created for the order: nothing proves it was meant for
		// it.
		s.Log.Warn("payment is not the one created for its order; not delivering", "via", via, "err", err)
		return false, nil
	case errors.Is(err, errMismatch):
		s.Log.Warn("payment does not match its order; not delivering", "payment", p.PaymentID, "order", p.TransactionID, "via", via, "err", err)
		return false, nil
	case err != nil:
		return false, err
	}
	switch outcome {
	case settledPaid:
		// The shipment was queued in the same transaction; a worker
		// reading the shipments table does the slow work.
		s.Log.Info("order paid", "order", p.TransactionID, "payment", p.PaymentID, "via", via)
	case settledLate:
		// Neither shipped nor dropped: the order waits for a person.
		s.Log.Error("paid after expiry: ship or refund", "order", p.TransactionID, "payment", p.PaymentID,
			"out_of_date_conciliation", p.OutOfDate, "via", via)
	}
	return true, nil
}
